#pragma once
/// \file
/// Filters on what a call did, as text: parsed into an expression, then checked against a
/// syscall's plan (its fields, what it captures, when). The checked expression is what the
/// code generator compiles into the syscall's programs.
///
///     openat.filename startswith "/etc/"
///     openat.flags & O_CREAT and exit_code == -ENOENT
///     connect.uservaddr.port == 443 or connect.uservaddr.address in 10.0.0.0/8
///     uid != 0                                   (a header field: every traced syscall)
///
/// Grammar: `or`, `and`, `not`, parentheses; comparisons `== != < <= > >=` on integers,
/// `&` (some of these bits are set), `startswith endswith contains` and `==`/`!=` on
/// strings, `in {a, b, ...}` sets and CIDR blocks (`10.0.0.0/8`, `fd00::/8`). Integers may
/// be written as the constants strace names them (`O_CREAT|O_EXCL`, `AF_INET`, `-ENOENT`).

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <ebpfpub/context/process.hpp>
#include <ebpfpub/error.hpp>
#include <ebpfpub/plan.hpp>

namespace ebpfpub::filter {

/// Where in the filter's text something was written, for the caret under an error.
struct source_span {
  std::size_t offset = 0;
  std::size_t length = 0;
};

/// Longest string a filter may compare (prefix, suffix, substring or equality), in bytes.
inline constexpr std::size_t max_string_bytes = 128;
/// `contains` looks for its constant starting in the first this many bytes of the string
/// (a longer string's later bytes are not searched). Measured: the verifier walks the
/// search loop once per start position and keeps one pending branch per word compared,
/// and gives up at 8192 of them; 256 start positions of a 128-byte constant (17 words
/// and the loop's test each) fit in a program with room to spare.
inline constexpr std::size_t contains_window = 256;
/// An fd's path (`read.fd.path`) is walked in the kernel up to this many bytes, what
/// /proc/PID/fd can show (PATH_MAX less its NUL), and up to 160 steps (components and
/// mount crossings). A longer path compares as no path: only `!=` holds.
inline constexpr std::size_t max_path_bytes = 4095;
/// Sets of up to this many values are compared one by one in the program; larger ones are
/// looked up in a map the tracer fills (a hash map of numbers or of zero-padded strings,
/// an LPM trie of address blocks), so their cost does not grow with their size.
inline constexpr std::size_t unrolled_set_items = 16;
/// Most values in one `in {...}` set.
inline constexpr std::size_t max_set_items = 4096;

enum class comparison_op : std::uint8_t {
  eq, ne, lt, le, gt, ge,
  bits,         ///< `x & MASK`: some bit of MASK is set
  starts_with,
  ends_with,
  contains,
  in,           ///< one of a set, or inside one of the CIDR blocks
};

/// An address block: `10.0.0.0/8`, `::1/128`, or one address (the whole width).
struct cidr {
  std::uint16_t family = 0;  ///< AF_INET or AF_INET6
  std::array<std::uint8_t, 16> bytes{};
  std::uint8_t prefix = 0;   ///< bits that must match
  friend bool operator==(const cidr&, const cidr&) = default;
};

struct value {
  enum class kind : std::uint8_t { integer, constant, string, cidr, set };
  kind type = kind::integer;
  std::int64_t integer = 0;  ///< kind::integer, and kind::constant once resolved
  std::string text;          ///< kind::string; kind::constant: the names as written ("O_CREAT|O_EXCL")
  bool negated = false;      ///< kind::constant written with a minus (-ENOENT)
  filter::cidr block;
  std::vector<value> items;  ///< kind::set
  source_span where;
};

/// `[syscall.]field[.member]`: `uid`, `openat.filename`, `connect.uservaddr.port`.
struct field_ref {
  std::string syscall;  ///< empty for header fields
  std::string name;
  std::string member;   ///< a socket address's family, address or port
  source_span where;
};

struct comparison {
  field_ref field;
  comparison_op op = comparison_op::eq;
  value operand;
  source_span where;
};

struct expression {
  enum class kind : std::uint8_t { comparison, all_of, any_of, negation };
  kind type = kind::comparison;
  filter::comparison test;            ///< kind::comparison
  std::vector<expression> operands;   ///< all_of (and), any_of (or), negation (one)
  source_span where;
};

/// Parses a filter; a syntax error points at the expression with a caret.
expected<expression> parse(std::string_view text);

/// The syscall an expression is about: the one its fields name, or empty when it names
/// only header fields (then it applies to every traced syscall). Naming two is an error.
expected<std::string> syscall_of(const expression& e, std::string_view text);

/// What a checked comparison reads, and when it can be decided.
struct operand_source {
  enum class kind : std::uint8_t {
    process_id, thread_id, user_id, group_id, comm, exit_code,  ///< the header
    argument,           ///< an argument's value (its slot)
    string_capture,     ///< a captured string (its bytes)
    sockaddr_family,    ///< a captured socket address's family, port or address
    sockaddr_port,
    sockaddr_address,
    /// The process context block (tracer_options::context), read at enter before the
    /// captures: a number at `offset` of its data (`width` bytes), or the executable's
    /// name there (NUL-terminated in `size` bytes).
    context_number,
    context_string,
    /// An fd argument's identity capture (plan_options::fd_identity): a number at
    /// `offset` of the record (`width` bytes; `network_order` for the remote port), the
    /// file kind (the mode's S_IFMT bits), a local or remote address (`offset`: the 16
    /// address bytes, the family at its own place), or the dentry name (`size` bytes).
    fd_number,
    fd_kind,
    fd_address,
    fd_string,
    /// The fd's full path, as /proc/PID/fd shows it in the caller's root: walked in the
    /// kernel (up d_parent, across mounts) only when a filter asks for it.
    fd_path,
  };
  kind type = kind::process_id;
  std::uint8_t argument = 0;  ///< argument and captures: the argument's index
  std::uint8_t capture = 0;   ///< captures: the capture's index in the plan
  std::uint8_t width = 8;     ///< argument: bytes of the C value
  bool is_signed = false;
  syscall_phase phase = syscall_phase::enter;  ///< enter, or exit for results and exit captures
  std::uint16_t offset = 0;   ///< context and fd fields: where in the block
  std::uint16_t size = 0;     ///< context and fd strings: the NUL-terminated field's bytes
  bool network_order = false; ///< fd_number: big-endian in the record (the remote port)
  /// A device number: written as stat(2)'s st_dev, compared in the kernel's encoding
  /// (major << 20 | minor), which is what the program reads.
  bool device = false;
};

/// A comparison resolved against a plan: constants replaced by numbers.
struct checked_comparison {
  operand_source source;
  comparison_op op = comparison_op::eq;
  value operand;
  /// `in` on more than unrolled_set_items values: the map holding them, which the tracer
  /// creates and fills before generating the programs; -1 otherwise.
  int set_map = -1;
  /// A string set's map: its key size (the longest value, zero-padded to 8 bytes).
  std::uint32_t set_key_size = 0;
};

struct checked_expression {
  expression::kind type = expression::kind::comparison;
  checked_comparison test;
  std::vector<checked_expression> operands;
  /// Every comparison below can be decided at enter (the in-flight entry is dropped there).
  bool at_enter = true;
};

/// Resolves fields, constants and types against the plan of the syscall the filter is
/// about (or of any syscall, for header-only filters). Errors point at the expression:
/// an unknown field (listing the syscall's fields), a type mismatch, an unknown constant,
/// a string longer than max_string_bytes, an argument the plan does not capture, a
/// context field that `context` (tracer_options::context) does not read, an fd field of
/// an fd the plan reads no identity of (plan_options::fd_identity).
///
/// Context fields: `ppid` (parent_process_id), `cgroup` (cgroup_id; a path string is
/// resolved to the cgroup's id here), `mnt_ns`, `pid_ns`, `net_ns`, `user_ns`,
/// `exe.inode`, `exe.device`, `exe.name` (`executable.` too). Fd fields:
/// `syscall.fd.kind` (regular, directory, socket, fifo, ...), `.type`, `.protocol`,
/// `.family`, `.port`, `.remote_port`, `.address`, `.remote_address`, `.inode`,
/// `.device`, `.flags`, `.mode`, `.name` (the dentry's last component), `.path` (the
/// whole path, as /proc/PID/fd shows it; walked only when a filter asks).
expected<checked_expression> check(const expression& e, const plan& p, std::string_view text,
                                   context_fields context = {});

/// "  openat.filenme startswith ..." and a caret line under `where`.
std::string caret(std::string_view text, source_span where);

}  // namespace ebpfpub::filter
