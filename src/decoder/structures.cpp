// Decoding of the structures specialized serializers capture: socket addresses, fd
// pairs, open_how, clone_args, signal masks. Every read checks the captured length first.

#include <ebpfpub/event.hpp>

#include <array>
#include <cstring>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

namespace ebpfpub {
namespace {

template <typename T>
bool read_at(std::span<const std::uint8_t> bytes, std::size_t offset, T& out) {
  if (bytes.size() < offset + sizeof(T)) return false;
  std::memcpy(&out, bytes.data() + offset, sizeof(T));
  return true;
}

}  // namespace

std::string_view family_name(std::uint16_t family) noexcept {
  switch (family) {
    case AF_UNSPEC: return "AF_UNSPEC";
    case AF_UNIX: return "AF_UNIX";
    case AF_INET: return "AF_INET";
    case AF_INET6: return "AF_INET6";
    case AF_NETLINK: return "AF_NETLINK";
    case AF_PACKET: return "AF_PACKET";
    case AF_VSOCK: return "AF_VSOCK";
    default: return {};
  }
}

bool decode_sockaddr(const std::vector<std::uint8_t>& bytes, socket_address& out) {
  out = {};
  const std::span<const std::uint8_t> b(bytes);
  if (!read_at(b, 0, out.family)) return false;
  switch (out.family) {
    case AF_INET: {
      sockaddr_in in{};
      if (b.size() < 8) break;  // family, port, address: the rest is padding
      std::memcpy(&in, b.data(), std::min(b.size(), sizeof(in)));
      char text[INET_ADDRSTRLEN] = {};
      ::inet_ntop(AF_INET, &in.sin_addr, text, sizeof(text));
      out.address = text;
      out.port = ntohs(in.sin_port);
      return true;
    }
    case AF_INET6: {
      sockaddr_in6 in6{};
      if (b.size() < 24) break;  // up to and including the address; scope id optional
      std::memcpy(&in6, b.data(), std::min(b.size(), sizeof(in6)));
      char text[INET6_ADDRSTRLEN] = {};
      ::inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof(text));  // RFC 5952 form
      out.address = text;
      out.port = ntohs(in6.sin6_port);
      return true;
    }
    case AF_UNIX: {
      // sun_path follows the family; its length is what the caller passed. An abstract
      // name starts with a NUL and may hold any bytes: shown with a leading '@'.
      const auto path = b.subspan(2);
      if (!path.empty() && path[0] == 0) {
        out.path = "@" + std::string(path.begin() + 1, path.end());
      } else {
        std::size_t n = 0;
        while (n < path.size() && path[n] != 0) ++n;
        out.path.assign(path.begin(), path.begin() + static_cast<std::ptrdiff_t>(n));
      }
      return true;
    }
    default:
      out.data.assign(b.begin() + 2, b.end());
      return true;
  }
  out.data.assign(b.begin() + 2, b.end());
  return false;
}

void decode_argument(const record_view& r, std::size_t i, fd_pair& out) {
  out.address = r.argument(i);
  const auto c = r.capture_of(i);
  out.status = c.status;
  std::int32_t fds[2] = {-1, -1};
  if (read_at(c.data, 0, fds[0]) && read_at(c.data, 4, fds[1])) {
    out.first = fds[0];
    out.second = fds[1];
  } else if (c.status == capture_status::ok) {
    out.status = capture_status::truncated;
  }
}

void decode_argument(const record_view& r, std::size_t i, open_how& out) {
  out.address = r.argument(i);
  const auto c = r.capture_of(i);
  out.status = c.status;
  // struct open_how { __u64 flags; __u64 mode; __u64 resolve; }
  if (!(read_at(c.data, 0, out.flags) && read_at(c.data, 8, out.mode) &&
        read_at(c.data, 16, out.resolve)) &&
      c.status == capture_status::ok)
    out.status = capture_status::truncated;
}

void decode_argument(const record_view& r, std::size_t i, clone_args& out) {
  out.address = r.argument(i);
  const auto c = r.capture_of(i);
  out.status = c.status;
  // struct clone_args { __u64 flags, pidfd, child_tid, parent_tid, exit_signal, ... }
  if (!(read_at(c.data, 0, out.flags) && read_at(c.data, 32, out.exit_signal)) &&
      c.status == capture_status::ok)
    out.status = capture_status::truncated;
}

void decode_argument(const record_view& r, std::size_t i, signal_mask& out) {
  out.address = r.argument(i);
  const auto c = r.capture_of(i);
  out.status = c.status;
  if (!read_at(c.data, 0, out.mask) && c.status == capture_status::ok)
    out.status = capture_status::truncated;
}

}  // namespace ebpfpub
