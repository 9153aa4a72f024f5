#pragma once
// Filters as code: a checked filter expression (include/ebpfpub/filter/expression.hpp)
// becomes IR in its syscall's programs. Each comparison is one emitter per operand kind
// (header field, argument slot, captured string, socket address), evaluated on what the
// in-flight entry holds; `and`, `or` and `not` combine their i1 results.

#include <ebpfpub/filter/expression.hpp>
#include <array>
#include <functional>
#include <optional>

#include "codegen/captures.hpp"
#include "codegen/filter_sets.hpp"

namespace ebpfpub::detail {

/// A plan's filter, split by when it can be decided.
struct filter_parts {
  /// Decided at enter: the in-flight entry is dropped there, before any output space.
  std::optional<filter::checked_expression> enter;
  /// Needs the result or an exit capture: decided at exit, before the record is sent.
  std::optional<filter::checked_expression> exit;
};

/// Splits `e` (an `and` of the filters on `p`, one syscall's) into what enter can decide
/// and what must wait for exit. An empty `and` (no filter) gives no parts. A test on a
/// string that enter may have to leave to exit (a page the caller has not touched yet:
/// captures.hpp, retryable) waits for exit, where that string is read again first.
filter_parts split_filter(const filter::checked_expression& e, const plan& p);

/// Whether `e` reads a captured string, socket address or fd identity (then it runs after
/// the captures; otherwise before them, so a rejected call copies nothing from user memory).
bool reads_captures(const filter::checked_expression& e);

/// When an enter part can run: on the header and arguments alone (before anything is
/// read), on the process context block (after it is read), or on the captures (after
/// them). A call rejected at an earlier stage pays for none of the later reads.
enum class filter_stage : std::uint8_t { numbers, context, captures };
inline constexpr std::size_t filter_stage_count = 3;
filter_stage stage_of(const filter::checked_expression& e);
/// An enter part split by stage: the `and` of its operands of each stage (indexed by
/// filter_stage), or the whole of it at its own stage when it is no `and`.
std::array<std::optional<filter::checked_expression>, filter_stage_count> by_stage(
    const filter::checked_expression& e);

/// The filter of target `t`'s plan (codegen_options::expressions), split by when it runs.
filter_parts filter_of(const codegen_options& options, const target& t);

/// Continues only when the call passes `e`; a rejected call is counted as filtered and,
/// with `mark_entry` (its exit is still to come), its entry is left in flight with size 0,
/// which tells the exit program to release it quietly (not as an exit without its enter).
void apply_filter(capture_context& cc, const filter::checked_expression& e, bool mark_entry,
                  llvm::BasicBlock* dropped = nullptr);

class storage_strategy;

/// Whether `e` has a comparison on an operand of `kind`.
bool reads_source(const filter::checked_expression& e, filter::operand_source::kind kind);

class argument_source;

/// The values a numbers-stage test `e` reads, read now: pid_tgid (p.pid_tgid, which must be
/// set), the uid and gid if `e` tests them, the arguments if it tests one.
enter_values numbers_values(program& p, const argument_source& source, const plan& plan,
                            const filter::checked_expression& e);

/// The numbers stage of `f`'s enter part (by_stage), if it has one.
std::optional<filter::checked_expression> numbers_stage(const filter_parts& f);

/// Whether the exit program of `plan` can run `numbers` (the numbers stage of its enter
/// filter) again and get the enter's answer: it reads no command name (another thread may
/// rename the caller meanwhile), no argument the exit cannot read, the call cannot change
/// what it reads (changes_caller), and its calls all end at its own exit program, alone
/// there (`alone_at_exit`: no other plan names its exit tracepoint as an alias).
bool retests_at_exit(const argument_source& source, const plan& plan, const filter::checked_expression& numbers,
                     bool alone_at_exit);

/// Continues only when the call passes `e`, a part of the numbers stage, emitted on
/// `values` before the entry is written (filter_enter.cpp). A rejected call is counted as
/// filtered and, when its exit is still to come and will not test it again
/// (target::retest_at_exit), its entry of `t` is marked for the exit program to release
/// quietly (mark_rejected): nothing else is written.
void apply_filter_before_entry(program& p, const storage_strategy& storage, const target& t,
                               const filter::checked_expression& e, const enter_values& values);

/// In an exit program, before it looks for `t`'s entry: ends a call `numbers` rejects
/// (its enter rejected and counted it, and left no entry), quietly.
void retest_before_claim(program& p, const argument_source& source, const target& t,
                         const filter::checked_expression& numbers);

/// Emits `e` on the entry `cc` fills; returns an i1 that is true when the call passes.
/// The builder is left in the block where the result is known.
llvm::Value* emit_filter(capture_context& cc, const filter::checked_expression& e);

// The emitters per operand kind (filter_code.cpp: numbers, filter_strings.cpp: strings
// and socket addresses).

/// A comparison on a number: a header field, an argument, or the exit code.
llvm::Value* emit_number_test(capture_context& cc, const filter::checked_comparison& c);
/// A comparison on a captured string or on the thread's command name.
llvm::Value* emit_string_test(capture_context& cc, const filter::checked_comparison& c);
/// A comparison on a captured socket address's family, port or address.
llvm::Value* emit_sockaddr_test(capture_context& cc, const filter::checked_comparison& c);
/// A comparison on a field of the process context block or of an fd's identity
/// (filter_fields.cpp).
llvm::Value* emit_field_test(capture_context& cc, const filter::checked_comparison& c);

/// A comparison on an fd's full path (filter_fd_path.cpp): the walk up its dentries runs
/// here, only when the comparison is reached.
llvm::Value* emit_fd_path_test(capture_context& cc, const filter::checked_comparison& c);

/// The `and` (`all`) or `or` of `e`'s operands, each emitted by `emit`: every operand is
/// computed (one i1 of cheap compares) except those that walk an fd's path (~46 ns a
/// component), which run last and only when the others have not decided.
llvm::Value* combine_paths_last(program& p, const filter::checked_expression& e, bool all,
                                const std::function<llvm::Value*(const filter::checked_expression&)>& emit);

/// `test()`'s result where `present` holds, false where it does not: the test's code runs
/// only on the first path (a capture that is not there is not read). `!=` included: what
/// is missing passes no comparison.
llvm::Value* when_present(program& p, llvm::Value* present, const char* what,
                          const std::function<llvm::Value*()>& test);

/// A string comparison (==, !=, in, startswith, endswith, contains) on the string whose
/// data follows a capture header at entry offset `at`: `length` bytes (i64), `status` (i8)
/// as a capture header has it, bounded by `shape.max_bytes` for the verifier.
llvm::Value* string_test_at(capture_context& cc, const filter::checked_comparison& c,
                            const capture& shape, llvm::Value* at, llvm::Value* length,
                            llvm::Value* status);

/// An IP address in the entry: the family (i16, host order), and the address at `data`
/// (an i64 entry offset) + `v4_at` (4 bytes) or + `v6_at` (16 bytes), in network order;
/// `length` bytes of it are there, at most `max_bytes`.
struct address_view {
  llvm::Value* data;
  llvm::Value* length;
  llvm::Value* family;
  std::uint32_t max_bytes;
  std::uint32_t v4_at;
  std::uint32_t v6_at;
};
/// `==`, `!=` or `in` on an address against CIDR blocks (unrolled, or the set's LPM trie).
llvm::Value* address_test(capture_context& cc, const filter::checked_comparison& c,
                          const address_view& a);

/// `v` (already cut and extended to its type) against the comparison's number or set.
llvm::Value* compare_number_operand(bpf_builder& b, llvm::Value* v,
                                    const filter::checked_comparison& c, unsigned bits,
                                    bool is_signed);

/// Requirements that must all hold, emitted as a chain of branches to `miss` on the first
/// that fails. Control flow, not one i1 built of many compares: the verifier then sees the
/// same state after each requirement whichever way it came and prunes; an i1 built of a
/// hundred compares made it walk their combinations (past its million instructions for a
/// 128-byte suffix).
struct chain {
  program& p;
  llvm::BasicBlock* miss;
  void require(llvm::Value* condition);
};

/// True when some alternative meets all of its requirements: alternative i is emitted by
/// `emit(i, chain)`, whose misses go on to alternative i + 1.
llvm::Value* any_alternative(program& p, std::size_t count,
                             const std::function<void(std::size_t, chain&)>& emit);

/// `v` (an i64) is in the set map `map_fd` (keys: set_number_key).
llvm::Value* number_in_map(capture_context& cc, llvm::Value* v, int map_fd);

/// Where capture `index` of the plan is in the entry: the byte offset of its header
/// (i64), and an i1 saying whether it is there at all (a capture skipped, faulted and
/// deferred, or left out for room is not). The offset is only meaningful when present,
/// and is then bounded so that the capture's whole reserve lies inside the entry.
struct located_capture {
  llvm::Value* present;
  llvm::Value* offset;
};
located_capture locate_capture(capture_context& cc, std::uint8_t index);

}  // namespace ebpfpub::detail
