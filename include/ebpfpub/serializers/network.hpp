#pragma once
/// \file
/// Network serializers: the socket address of each call, captured when it is valid
/// (in-pointers at enter with the length the caller passed; out-pointers at exit with the
/// length the kernel wrote), and `socket` under its own name.

#include <boost/hana/define_struct.hpp>

#include <ebpfpub/serializer.hpp>
#include <ebpfpub/serializers/helpers.hpp>
#include <ebpfpub/syscalls.hpp>

namespace ebpfpub {

namespace serializers {
/// The address at argument `Address`, `Length` being its length (`In`: a value at enter)
/// or a pointer to it (an out-pointer: read at exit).
template <syscall_signature S, std::uint8_t Address, std::uint8_t Length, bool In>
struct with_sockaddr {
  static constexpr std::string_view name = "socket_address";
  using args_type = typename S::arguments;
  static plan make_plan(const plan_options& o) {
    plan p = generic_plan<S>(name, o);
    p.captures.push_back(bytes(Address, In ? syscall_phase::enter : syscall_phase::exit,
                               In ? length_source::argument : length_source::argument_pointer,
                               Length, sockaddr_size, capture_op::sockaddr));
    return p;
  }
  static args_type decode(const record_view& r) { return decode_members<args_type>(r); }
};

/// sendmsg/recvmsg: the address msg->msg_name points to (msg_namelen long).
/// struct user_msghdr { void __user *msg_name; int msg_namelen; ... }
template <syscall_signature S, bool In>
struct with_msghdr {
  static constexpr std::uint16_t msg_name_offset = 0;
  static constexpr std::uint16_t msg_namelen_offset = 8;
  static constexpr std::string_view name = "socket_address";
  struct args_type {
    BOOST_HANA_DEFINE_STRUCT(args_type, (::ebpfpub::fd, fd), (::ebpfpub::user_sockaddr, msg),
                             (std::uint32_t, flags));
  };
  static plan make_plan(const plan_options& o) {
    plan p = generic_plan<S>(name, o);
    capture name = bytes(1, In ? syscall_phase::enter : syscall_phase::exit,
                         length_source::struct_field, 0, sockaddr_size, capture_op::sockaddr);
    name.indirect = true;
    name.pointer_offset = msg_name_offset;
    name.length_offset = msg_namelen_offset;
    p.captures.push_back(name);
    return p;
  }
  static args_type decode(const record_view& r) { return decode_members<args_type>(r); }
};
}  // namespace serializers

template <> struct serializer<syscalls::connect> : serializers::with_sockaddr<syscalls::connect, 1, 2, true> {};
template <> struct serializer<syscalls::bind> : serializers::with_sockaddr<syscalls::bind, 1, 2, true> {};
template <> struct serializer<syscalls::sendto> : serializers::with_sockaddr<syscalls::sendto, 4, 5, true> {};
template <> struct serializer<syscalls::accept> : serializers::with_sockaddr<syscalls::accept, 1, 2, false> {};
template <> struct serializer<syscalls::accept4> : serializers::with_sockaddr<syscalls::accept4, 1, 2, false> {};
template <> struct serializer<syscalls::getsockname> : serializers::with_sockaddr<syscalls::getsockname, 1, 2, false> {};
template <> struct serializer<syscalls::getpeername> : serializers::with_sockaddr<syscalls::getpeername, 1, 2, false> {};
template <> struct serializer<syscalls::recvfrom> : serializers::with_sockaddr<syscalls::recvfrom, 4, 5, false> {};
template <> struct serializer<syscalls::sendmsg> : serializers::with_msghdr<syscalls::sendmsg, true> {};
template <> struct serializer<syscalls::recvmsg> : serializers::with_msghdr<syscalls::recvmsg, false> {};

template <>
struct serializer<syscalls::socket> : serializers::generic_as<syscalls::socket, serializer<syscalls::socket>> {
  static constexpr std::string_view name = "socket";
};

}  // namespace ebpfpub
