// pid_t is a signed 4-byte int: an unsigned 8-byte member would turn -1 into 2^64-1.
// expect-error: integer_member_of_another_width_or_sign<ebpfpub::syscalls::prlimit64
// expect-error: "pid"
#include <sys/resource.h>

#include <boost/hana/define_struct.hpp>

#include <ebpfpub/ebpfpub.hpp>

namespace sys = ebpfpub::syscalls;

template <> struct ebpfpub::serializer<sys::prlimit64> : ebpfpub::declare<sys::prlimit64> {
  static constexpr std::string_view name = "rlimits";
  struct args_type {
    BOOST_HANA_DEFINE_STRUCT(args_type, (std::uint64_t, pid), (std::uint32_t, resource),
                             (ebpfpub::in_struct<::rlimit64>, new_rlim),
                             (ebpfpub::out_struct<::rlimit64>, old_rlim));
  };
};

ebpfpub::expected<void> use(ebpfpub::tracer& t) {
  return t.trace<sys::prlimit64>([](const ebpfpub::event<sys::prlimit64>&) {});
}
