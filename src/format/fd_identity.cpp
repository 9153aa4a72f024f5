// An fd with its identity, in text (as strace -yy shows it: `3</etc/passwd>`,
// `4<socket:TCP 127.0.0.1:40000->127.0.0.1:8080>`) and in JSON (docs/event-format.md).

#include <ebpfpub/format/text.hpp>

#include <sys/socket.h>
#include <sys/sysmacros.h>

#include <netinet/in.h>

#include <ebpfpub/format/escape.hpp>

#include "writers.hpp"

namespace ebpfpub {
namespace {

using detail::put;
using detail::put_number;

std::string_view protocol_name(const fd_identity& id) {
  const bool v6 = id.family == AF_INET6;
  switch (id.protocol) {
    case IPPROTO_TCP: return v6 ? "TCPv6" : "TCP";
    case IPPROTO_UDP: return v6 ? "UDPv6" : "UDP";
    case IPPROTO_UDPLITE: return v6 ? "UDPLITEv6" : "UDPLITE";
    case IPPROTO_ICMP: return "ICMP";
    case IPPROTO_ICMPV6: return "ICMPv6";
    case IPPROTO_SCTP: return v6 ? "SCTPv6" : "SCTP";
    case IPPROTO_RAW: return v6 ? "RAWv6" : "RAW";
  }
  return {};
}

std::string_view unix_type_name(std::uint16_t type) {
  switch (type) {
    case SOCK_STREAM: return "UNIX-STREAM";
    case SOCK_DGRAM: return "UNIX-DGRAM";
    case SOCK_SEQPACKET: return "UNIX-SEQPACKET";
  }
  return "UNIX";
}

void endpoint(fmt::memory_buffer& out, const fd_identity& id, const socket_endpoint& e) {
  if (id.family == AF_INET6)
    fmt::format_to(std::back_inserter(out), "[{}]:{}", e.address, e.port);
  else
    fmt::format_to(std::back_inserter(out), "{}:{}", e.address, e.port);
}

void socket_text(fmt::memory_buffer& out, const fd_identity& id) {
  put(out, "socket:");
  if (id.family == AF_INET || id.family == AF_INET6) {
    const auto protocol = protocol_name(id);
    if (protocol.empty())
      fmt::format_to(std::back_inserter(out), "{}/{}", family_name(id.family), id.protocol);
    else
      put(out, protocol);
    out.push_back(' ');
    endpoint(out, id, id.local);
    // A listening or unconnected socket has no remote end (port 0).
    if (id.remote.port != 0) {
      put(out, "->");
      endpoint(out, id, id.remote);
    }
  } else if (id.family == AF_UNIX) {
    // Without a path, the inode is what tells one UNIX socket from another (as strace).
    put(out, unix_type_name(id.type));
    fmt::format_to(std::back_inserter(out), ":[{}]", id.inode);
    if (!id.unix_path.empty()) {
      out.push_back(' ');
      append_terminal_escaped(out, id.unix_path);
    }
    if (!id.unix_peer_path.empty()) {
      put(out, "->");
      append_terminal_escaped(out, id.unix_peer_path);
    }
  } else {
    const auto family = family_name(id.family);
    if (family.empty()) fmt::format_to(std::back_inserter(out), "family {}", id.family);
    else put(out, family);
    fmt::format_to(std::back_inserter(out), ":[{}]", id.inode);
  }
}

void identity_text(fmt::memory_buffer& out, const fd_identity& id) {
  if (id.state != fd_state::open) return put(out, to_string(id.state));
  if (id.path) {
    append_terminal_escaped(out, id.path->path);
    if (id.path->stale) put(out, " (stale)");
    return;
  }
  switch (id.kind) {
    case file_kind::socket: return socket_text(out, id);
    case file_kind::fifo:
      if (id.name.empty()) return void(fmt::format_to(std::back_inserter(out), "pipe:[{}]", id.inode));
      break;
    case file_kind::anon_inode:
      put(out, "anon_inode:");
      return append_terminal_escaped(out, id.name);
    default: break;
  }
  // A file whose path the library does not know: what the kernel told, and its name.
  fmt::format_to(std::back_inserter(out), "{} {}:{}:{} ", to_string(id.kind), ::major(id.device),
                 ::minor(id.device), id.inode);
  append_terminal_escaped(out, id.name);
}

void key(fmt::memory_buffer& out, std::string_view name) {
  out.push_back('"');
  put(out, name);
  put(out, "\":");
}

void endpoint_json(fmt::memory_buffer& out, std::string_view name, const socket_endpoint& e) {
  put(out, ",");
  key(out, name);
  put(out, "{\"address\":");
  append_json_string(out, e.address);
  put(out, ",\"port\":");
  put_number(out, e.port);
  out.push_back('}');
}

}  // namespace

void append_text(fmt::memory_buffer& out, const fd& v) {
  put_number(out, v.value);
  // A negative descriptor (AT_FDCWD, -1) is its number: "bad_fd" would say nothing more.
  if (!v.identity || (v.identity->state == fd_state::bad_fd && v.value < 0)) return;
  out.push_back('<');
  identity_text(out, *v.identity);
  out.push_back('>');
}

namespace detail {

void append_fd_json(fmt::memory_buffer& out, const fd& v) {
  if (!v.identity) return put_number(out, v.value);
  const auto& id = *v.identity;
  put(out, "{\"value\":");
  put_number(out, v.value);
  put(out, ",\"state\":");
  append_json_string(out, to_string(id.state));
  if (id.state == fd_state::open) {
    put(out, ",\"kind\":");
    append_json_string(out, to_string(id.kind));
    put(out, ",\"device\":");
    put_number(out, id.device);
    put(out, ",\"inode\":");
    put_number(out, id.inode);
    put(out, ",\"mode\":");
    put_number(out, id.mode);
    put(out, ",\"flags\":");
    put_number(out, id.flags);
    put(out, ",\"name\":");
    append_json_string(out, id.name);
    if (id.path) {
      put(out, ",\"path\":");
      append_json_string(out, id.path->path);
      put(out, id.path->origin == path_origin::proc_fd ? ",\"path_origin\":\"proc_fd\""
                                                      : ",\"path_origin\":\"traced_open\"");
      put(out, id.path->stale ? ",\"path_stale\":true" : ",\"path_stale\":false");
    }
  }
  if (id.kind == file_kind::socket) {
    put(out, ",\"family\":");
    put_number(out, id.family);
    put(out, ",\"type\":");
    put_number(out, id.type);
    put(out, ",\"protocol\":");
    put_number(out, id.protocol);
    if (id.family == AF_INET || id.family == AF_INET6) {
      endpoint_json(out, "local", id.local);
      endpoint_json(out, "remote", id.remote);
    } else if (id.family == AF_UNIX) {
      put(out, ",\"unix_path\":");
      append_json_string(out, id.unix_path);
      put(out, ",\"unix_peer_path\":");
      append_json_string(out, id.unix_peer_path);
    }
  }
  out.push_back('}');
}

}  // namespace detail
}  // namespace ebpfpub
