#pragma once
// The filter fields that are not a syscall's own arguments or the record header: the
// process context block (tracer_options::context) and an fd argument's identity
// (plan_options::fd_identity). Names as the formatter prints them (docs/event-format.md).

#include <ebpfpub/filter/expression.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace ebpfpub::filter::detail {

/// Makes the error of a field, with the caret under it.
using field_error = std::function<error(std::string)>;

/// `f` as a process context field (`ppid`, `cgroup`, `mnt_ns`, `exe.name`, ...); nullopt
/// when it names none. An error when `context` does not read it (naming the
/// context_field to add to tracer_options::context) or the member is unknown.
std::optional<expected<operand_source>> resolve_context_field(const field_ref& f, context_fields context,
                                                              const field_error& fail);

/// Member `member` of the identity of fd argument `argument`, whose identity capture is
/// `capture` (of phase `when`).
expected<operand_source> resolve_fd_member(std::string_view member, std::uint8_t argument,
                                           std::uint8_t capture, syscall_phase when,
                                           const field_error& fail);

/// The fd members, for an error that lists them.
std::string fd_member_list();

/// The S_IFMT bits of a file kind as the filter writes it (`regular`, `dir`, `pipe`,
/// `socket`, `anon_inode`: 0, ...); nullopt for another name.
std::optional<std::int64_t> file_kind_bits(std::string_view name);
/// The kind names, for an error that lists them.
std::string file_kind_list();

/// The symbol set whose names an fd or context number may use (address_families for
/// `.family`...), or empty.
std::string_view symbols_of(const operand_source& s);

/// The id of the cgroup at `path` (under the cgroup2 mount, or relative to it): what
/// bpf_get_current_cgroup_id() returns in it.
expected<std::uint64_t> cgroup_id_of(std::string_view path);

/// stat's st_dev as the kernel keeps a super block's s_dev: major << 20 | minor.
std::uint64_t kernel_device(std::uint64_t user_device);

}  // namespace ebpfpub::filter::detail
