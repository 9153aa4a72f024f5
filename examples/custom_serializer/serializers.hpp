#pragma once
// Two serializers ebpfpub does not ship, in the declarative form: the argument types say
// what is read (a struct at enter, a struct at exit), and the plan and the decoding
// follow from them. docs/custom-serializers.md walks through them.

#include <string_view>

#include <sys/resource.h>
#include <sys/stat.h>

#include <boost/hana/define_struct.hpp>

#include <ebpfpub/ebpfpub.hpp>

namespace sys = ebpfpub::syscalls;

// prlimit64(pid, resource, new_rlim, old_rlim): the new limit at enter, the old one at
// exit; either pointer may be NULL (only read, or only set).
template <> struct ebpfpub::serializer<sys::prlimit64> : ebpfpub::declare<sys::prlimit64> {
  static constexpr std::string_view name = "rlimits";
  struct args_type {
    BOOST_HANA_DEFINE_STRUCT(args_type, (std::int32_t, pid), (std::uint32_t, resource),
                             (ebpfpub::nullable<ebpfpub::in_struct<::rlimit64>>, new_rlim),
                             (ebpfpub::nullable<ebpfpub::out_struct<::rlimit64>>, old_rlim));
  };
};

// newfstatat(dfd, filename, statbuf, flag): the path at enter, the kernel's answer at exit.
template <> struct ebpfpub::serializer<sys::newfstatat> : ebpfpub::declare<sys::newfstatat> {
  static constexpr std::string_view name = "stat";
  struct args_type {
    BOOST_HANA_DEFINE_STRUCT(args_type, (ebpfpub::fd, dfd), (ebpfpub::user_string, filename),
                             (ebpfpub::out_struct<struct ::stat>, statbuf), (std::int32_t, flag));
  };
};
