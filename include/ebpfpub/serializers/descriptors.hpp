#pragma once
/// \file
/// Out-parameters: the two descriptors pipe, pipe2 and socketpair return, read at exit.

#include <boost/hana/define_struct.hpp>

#include <ebpfpub/serializer.hpp>
#include <ebpfpub/serializers/helpers.hpp>
#include <ebpfpub/syscalls.hpp>

namespace ebpfpub {

namespace serializers {
inline capture fd_pair_at(std::uint8_t argument) {
  return bytes(argument, syscall_phase::exit, length_source::fixed, 0, 8);
}
}  // namespace serializers

template <>
struct serializer<syscalls::pipe> {
  static constexpr std::string_view name = "fd_pair";
  struct args_type {
    BOOST_HANA_DEFINE_STRUCT(args_type, (::ebpfpub::fd_pair, fildes));
  };
  static plan make_plan(const plan_options& o) {
    plan p = serializers::generic_plan<syscalls::pipe>(name, o);
    p.captures.push_back(serializers::fd_pair_at(0));
    return p;
  }
  static args_type decode(const record_view& r) { return decode_members<args_type>(r); }
};

template <>
struct serializer<syscalls::pipe2> {
  static constexpr std::string_view name = "fd_pair";
  struct args_type {
    BOOST_HANA_DEFINE_STRUCT(args_type, (::ebpfpub::fd_pair, fildes), (std::int32_t, flags));
  };
  static plan make_plan(const plan_options& o) {
    plan p = serializers::generic_plan<syscalls::pipe2>(name, o);
    p.captures.push_back(serializers::fd_pair_at(0));
    return p;
  }
  static args_type decode(const record_view& r) { return decode_members<args_type>(r); }
};

template <>
struct serializer<syscalls::socketpair> {
  static constexpr std::string_view name = "fd_pair";
  struct args_type {
    BOOST_HANA_DEFINE_STRUCT(args_type, (std::int32_t, family), (std::int32_t, type),
                             (std::int32_t, protocol), (::ebpfpub::fd_pair, usockvec));
  };
  static plan make_plan(const plan_options& o) {
    plan p = serializers::generic_plan<syscalls::socketpair>(name, o);
    p.captures.push_back(serializers::fd_pair_at(3));
    return p;
  }
  static args_type decode(const record_view& r) { return decode_members<args_type>(r); }
};

}  // namespace ebpfpub
