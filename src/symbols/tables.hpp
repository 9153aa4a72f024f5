#pragma once
// The generated tables (tables.cpp, written by tools/symbols/generate.py).

#include <span>

#include <ebpfpub/symbols/symbols.hpp>

namespace ebpfpub::symbols::detail {

std::span<const symbol_set> sets() noexcept;
std::span<const argument_symbols> arguments() noexcept;

}  // namespace ebpfpub::symbols::detail
