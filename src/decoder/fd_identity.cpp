// Decoding the fixed-size fd identity a program wrote (include/ebpfpub/fd_identity.hpp).
// The bytes are untrusted (fuzzed): every length is clamped to its field.

#include <ebpfpub/event.hpp>
#include <ebpfpub/fd_identity.hpp>

#include <algorithm>
#include <cstring>

#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>

namespace ebpfpub {
namespace {

namespace layout = record::fd_identity_layout;

template <typename T>
T read(std::span<const std::uint8_t> bytes, std::uint32_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

// A NUL-terminated string in a fixed field.
std::string c_string(std::span<const std::uint8_t> field) {
  const auto end = std::find(field.begin(), field.end(), std::uint8_t{0});
  return {field.begin(), end};
}

// sun_path of `length` bytes of sockaddr_un (with its 2-byte family), as decode_sockaddr
// shows it: an abstract name (leading NUL) as '@' and its bytes, a path up to its NUL.
std::string unix_path(std::span<const std::uint8_t> path, std::uint32_t length) {
  if (length <= 2) return {};
  const auto n = std::min<std::size_t>(length - 2, path.size());
  if (path[0] == 0) return "@" + std::string(path.begin() + 1, path.begin() + static_cast<std::ptrdiff_t>(n));
  return c_string(path.first(n));
}

std::string ip_text(int family, const std::uint8_t* address) {
  char text[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(family, address, text, sizeof(text));
  return text;
}

file_kind kind_of_mode(std::uint32_t mode, const std::string& name) {
  switch (mode & S_IFMT) {
    case S_IFREG: break;
    case S_IFDIR: return file_kind::directory;
    case S_IFCHR: return file_kind::character_device;
    case S_IFBLK: return file_kind::block_device;
    case S_IFIFO: return file_kind::fifo;
    case S_IFLNK: return file_kind::symlink;
    case S_IFSOCK: return file_kind::socket;
    default:
      // The anonymous inode has no type bits (fstat of an eventfd: 0600 on Linux 6.18).
      return (mode & S_IFMT) == 0 ? file_kind::anon_inode : file_kind::unknown;
  }
  // Should a kernel type the anonymous inode S_IFREG, its dentry name still tells it:
  // "[eventfd]", "[eventpoll]"..., a name a file of a real file system seldom has.
  if (name.size() > 2 && name.front() == '[' && name.back() == ']') return file_kind::anon_inode;
  return file_kind::regular;
}

}  // namespace

std::string_view to_string(fd_state state) noexcept {
  switch (state) {
    case fd_state::open: return "open";
    case fd_state::not_open: return "not_open";
    case fd_state::bad_fd: return "bad_fd";
    case fd_state::unreadable: return "unreadable";
  }
  return "unknown";
}

std::string_view to_string(file_kind kind) noexcept {
  switch (kind) {
    case file_kind::unknown: return "unknown";
    case file_kind::regular: return "regular";
    case file_kind::directory: return "directory";
    case file_kind::character_device: return "character_device";
    case file_kind::block_device: return "block_device";
    case file_kind::fifo: return "fifo";
    case file_kind::symlink: return "symlink";
    case file_kind::socket: return "socket";
    case file_kind::anon_inode: return "anon_inode";
  }
  return "unknown";
}

std::optional<fd_identity> decode_fd_identity(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < layout::size) return std::nullopt;
  const auto state = read<std::uint8_t>(bytes, layout::state);
  if (state > static_cast<std::uint8_t>(fd_state::unreadable)) return std::nullopt;
  fd_identity id;
  id.state = static_cast<fd_state>(state);
  if (id.state != fd_state::open) return id;
  const auto file = file_identity::from_kernel(read<std::uint32_t>(bytes, layout::device),
                                               read<std::uint64_t>(bytes, layout::inode));
  id.device = file.device;
  id.inode = file.inode;
  id.mode = read<std::uint32_t>(bytes, layout::mode) & 0xffff;  // i_mode is a umode_t
  id.flags = read<std::uint32_t>(bytes, layout::flags);
  // The kernel's read ends the name with a NUL within the field: 63 bytes at most.
  id.name = c_string(bytes.subspan(layout::name, layout::name_size - 1));
  id.kind = kind_of_mode(id.mode, id.name);
  if (id.kind != file_kind::socket) return id;
  id.family = read<std::uint16_t>(bytes, layout::family);
  id.type = read<std::uint16_t>(bytes, layout::type);
  id.protocol = read<std::uint16_t>(bytes, layout::protocol);
  if (id.family == AF_INET || id.family == AF_INET6) {
    id.local = {ip_text(id.family, bytes.data() + layout::local_address),
                read<std::uint16_t>(bytes, layout::local_port)};
    id.remote = {ip_text(id.family, bytes.data() + layout::remote_address),
                 ntohs(read<std::uint16_t>(bytes, layout::remote_port))};
  } else if (id.family == AF_UNIX) {
    id.unix_path = unix_path(bytes.subspan(layout::unix_path, layout::unix_path_size),
                             read<std::uint32_t>(bytes, layout::unix_length));
    id.unix_peer_path = unix_path(bytes.subspan(layout::unix_peer_path, layout::unix_path_size),
                                  read<std::uint32_t>(bytes, layout::unix_peer_length));
  }
  return id;
}

void attach_path(fd_identity& id, path_cache& paths) {
  if (id.state != fd_state::open) return;
  // Pipes, sockets and anonymous inodes have no path to find.
  if (id.kind == file_kind::socket || id.kind == file_kind::anon_inode ||
      (id.kind == file_kind::fifo && id.name.empty()))
    return;
  auto known = paths.find({id.device, id.inode});
  if (!known) return;
  const auto slash = known->path.rfind('/');
  const std::string_view last = slash == std::string::npos ? std::string_view(known->path)
                                                           : std::string_view(known->path).substr(slash + 1);
  // d_name is read up to 63 bytes: a longer name is compared on what was read.
  const bool whole = id.name.size() < layout::name_size - 1;
  if (whole ? last != id.name : !last.starts_with(id.name)) known->stale = true;
  id.path = std::move(known);
}

void record_view::attach_paths(path_cache* paths) {
  paths_ = paths;
  if (paths && header_.returned_fd) attach_path(*header_.returned_fd, *paths);
}

void decode_argument(const record_view& r, std::size_t i, fd& out) {
  out.value = static_cast<std::int32_t>(r.argument(i));
  out.identity.reset();
  const auto c = r.capture_of(i);
  if (!c.spec || c.spec->op != capture_op::fd_identity || c.status != capture_status::ok) return;
  out.identity = decode_fd_identity(c.data);
  if (out.identity && r.paths()) attach_path(*out.identity, *r.paths());
}

}  // namespace ebpfpub
