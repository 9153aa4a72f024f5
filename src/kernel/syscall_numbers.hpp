#pragma once
// The number the kernel dispatches a syscall by, from the name of its tracefs events.

#include <cstdint>
#include <optional>
#include <string_view>

namespace ebpfpub::detail {

/// One more than the largest number in the table: the size of the dispatch mode's
/// program arrays. A number at or above it (x32 calls, with bit 30 set) finds no program.
inline constexpr std::uint32_t syscall_table_size = 512;

/// The x86_64 number of the syscall whose tracefs events are sys_enter_`name` and
/// sys_exit_`name`, or nothing when the table does not know it.
std::optional<std::uint32_t> syscall_number(std::string_view name);

}  // namespace ebpfpub::detail
