// An integer where the kernel has a pointer: the address, not the limit.
// expect-error: integer_member_where_the_kernel_has_a_pointer<ebpfpub::syscalls::prlimit64
// expect-error: "new_rlim"
#include <sys/resource.h>

#include <boost/hana/define_struct.hpp>

#include <ebpfpub/ebpfpub.hpp>

namespace sys = ebpfpub::syscalls;

template <> struct ebpfpub::serializer<sys::prlimit64> : ebpfpub::declare<sys::prlimit64> {
  static constexpr std::string_view name = "rlimits";
  struct args_type {
    BOOST_HANA_DEFINE_STRUCT(args_type, (std::int32_t, pid), (std::uint32_t, resource),
                             (std::uint64_t, new_rlim),
                             (ebpfpub::out_struct<::rlimit64>, old_rlim));
  };
};

ebpfpub::expected<void> use(ebpfpub::tracer& t) {
  return t.trace<sys::prlimit64>([](const ebpfpub::event<sys::prlimit64>&) {});
}
