#pragma once
// Summary mode's programs (tracer_options::summary): they count in per-CPU maps and
// send nothing. The enter program keeps only the enter time (and the in-flight mark)
// in the in-flight entry; the exit program adds the call to its syscall's counters.
// The session reads the same layout back (session/summary_maps.cpp).

#include <cstdint>
#include <span>
#include <string_view>

#include "codegen/skeleton.hpp"
#include "codegen/strategies.hpp"

namespace ebpfpub::detail {

/// One syscall's counters, a per-CPU array value indexed by plan; u64 fields.
namespace summary_value {
inline constexpr std::uint32_t calls = 0;
inline constexpr std::uint32_t errors = 8;
inline constexpr std::uint32_t total_ns = 16;
/// ~min: the kernel keeps the minimum as a maximum of complements, so the zeroed
/// value needs no "first call" case (0 reads as "no call timed").
inline constexpr std::uint32_t min_complement = 24;
inline constexpr std::uint32_t max_ns = 32;
/// Failed calls whose {syscall, errno} the errno map had no room for.
inline constexpr std::uint32_t errors_unattributed = 40;
inline constexpr std::uint32_t histogram = 48;  ///< 64 u64 buckets (summary.hpp)
inline constexpr std::uint32_t size = histogram + 64 * 8;
}  // namespace summary_value

/// The errno map's key (a per-CPU hash: u64 count per {plan index, errno}).
struct errno_key {
  std::uint32_t index;
  std::uint32_t error;  ///< positive: 2 for ENOENT
};

/// Summary mode's enter program of `t`: filters, rate limit, then the enter time in the
/// in-flight entry; exit and exit_group (sent at enter) count the call here instead.
llvm::Function* summary_enter_program(bpf_builder& b, const program_maps& maps, const codegen_options& options,
                                      const storage_strategy& storage, const argument_source& arguments,
                                      const target& t, std::uint32_t self_counter);

/// Summary mode's program of exit tracepoint `syscall`: completes the in-flight entry of
/// the first of `targets` that left one, and counts the call, its errno and duration.
llvm::Function* summary_exit_program(bpf_builder& b, const program_maps& maps, const codegen_options& options,
                                     const storage_strategy& storage, std::string_view syscall,
                                     std::span<const target> targets);

}  // namespace ebpfpub::detail
