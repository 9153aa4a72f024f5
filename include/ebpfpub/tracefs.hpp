#pragma once
/// \file
/// The kernel's tracing file system: where it is, which syscall tracepoints it has, and
/// the layout of each tracepoint's record (its `format` file).

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <ebpfpub/error.hpp>

namespace ebpfpub {

/// One field of a tracepoint record, as its format file describes it.
struct format_field {
  std::string type;  ///< C type text: "const char *", "unsigned long", "char[16]"
  std::string name;  ///< "filename"
  std::uint32_t offset = 0;
  std::uint32_t size = 0;
  bool is_signed = false;

  friend bool operator==(const format_field&, const format_field&) = default;
};

/// A parsed `format` file: the event's name, its id and its fields in record order.
struct tracepoint_format {
  std::string name;  ///< "sys_enter_openat"
  std::uint32_t id = 0;
  std::vector<format_field> fields;

  /// The field called `name`, or nullptr.
  const format_field* find(std::string_view name) const noexcept;
  /// The fields that follow the common ones (`common_*`) and, for syscall events,
  /// `__syscall_nr`: the syscall's arguments at enter, `ret` at exit.
  std::span<const format_field> payload() const noexcept;
};

/// Parses the text of a format file. `source` names it in errors ("…/format:7: …").
expected<tracepoint_format> parse_tracepoint_format(std::string_view text,
                                                    std::string_view source);

/// Which of a syscall's two tracepoints.
enum class syscall_phase : std::uint8_t { enter, exit };

/// A handle on the mounted tracefs. Cheap to copy: it only holds the mount's path.
class tracefs {
 public:
  struct options {
    /// Where to look, in order; the first one is where it gets mounted when absent.
    std::vector<std::string> candidates{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};
    /// Mount tracefs on the first candidate when none has it (needs CAP_SYS_ADMIN).
    bool allow_mount = true;
  };

  /// Finds tracefs, mounting it when allowed and needed; the error says what to run.
  static expected<tracefs> open(const options& opts);
  static expected<tracefs> open() { return open(options{}); }

  /// The mount point in use, e.g. "/sys/kernel/tracing".
  const std::string& root() const noexcept { return root_; }
  /// True when this call mounted it (it stays mounted: other tools may use it too).
  bool mounted_here() const noexcept { return mounted_here_; }

  /// Names of the syscalls that have both an enter and an exit tracepoint, sorted.
  expected<std::vector<std::string>> syscall_names() const;
  /// The format of `events/<category>/<event>/format`.
  expected<tracepoint_format> format(std::string_view category, std::string_view event) const;
  /// The format of `sys_enter_<syscall>` or `sys_exit_<syscall>`; an unknown syscall's
  /// error suggests the closest names.
  expected<tracepoint_format> syscall_format(std::string_view syscall, syscall_phase phase) const;

 private:
  tracefs(std::string root, bool mounted_here) : root_(std::move(root)), mounted_here_(mounted_here) {}
  std::string root_;
  bool mounted_here_ = false;
};

/// Up to `limit` names of `candidates` closest to `name` (edit distance), best first.
std::vector<std::string> closest_names(std::string_view name,
                                       std::span<const std::string> candidates,
                                       std::size_t limit = 3);

}  // namespace ebpfpub
