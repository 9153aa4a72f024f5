#pragma once
/// \file
/// Open serializers: openat2 with its `struct open_how`; open, openat and creat under the
/// name "open" (flags and mode stay numbers in the event; formatters render them).

#include <boost/hana/define_struct.hpp>

#include <ebpfpub/serializer.hpp>
#include <ebpfpub/serializers/helpers.hpp>
#include <ebpfpub/syscalls.hpp>

namespace ebpfpub {

/// openat2(int dfd, const char *filename, struct open_how *how, size_t usize)
template <>
struct serializer<syscalls::openat2> {
  static constexpr std::string_view name = "open_how";
  struct args_type {
    BOOST_HANA_DEFINE_STRUCT(args_type, (::ebpfpub::fd, dfd), (::ebpfpub::user_string, filename),
                             (::ebpfpub::open_how, how), (std::uint64_t, usize));
  };
  static plan make_plan(const plan_options& o) {
    plan p = serializers::generic_plan<syscalls::openat2>(name, o);
    // flags, mode, resolve: 24 bytes, no more than the caller's usize.
    p.captures.push_back(serializers::bytes(2, syscall_phase::enter, length_source::argument, 3, 24));
    return p;
  }
  static args_type decode(const record_view& r) { return decode_members<args_type>(r); }
};

#define EBPFPUB_OPEN_SERIALIZER(syscall)                                             \
  template <>                                                                        \
  struct serializer<syscalls::syscall>                                               \
      : serializers::generic_as<syscalls::syscall, serializer<syscalls::syscall>> { \
    static constexpr std::string_view name = "open";                                 \
  };
EBPFPUB_OPEN_SERIALIZER(open)
EBPFPUB_OPEN_SERIALIZER(openat)
EBPFPUB_OPEN_SERIALIZER(creat)
#undef EBPFPUB_OPEN_SERIALIZER

}  // namespace ebpfpub
