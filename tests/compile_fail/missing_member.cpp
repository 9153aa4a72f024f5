// resource left out: every later value would shift by one.
// expect-error: args_type_lacks_kernel_field<ebpfpub::syscalls::prlimit64
// expect-error: "resource"
#include <sys/resource.h>

#include <boost/hana/define_struct.hpp>

#include <ebpfpub/ebpfpub.hpp>

namespace sys = ebpfpub::syscalls;

template <> struct ebpfpub::serializer<sys::prlimit64> : ebpfpub::declare<sys::prlimit64> {
  static constexpr std::string_view name = "rlimits";
  struct args_type {
    BOOST_HANA_DEFINE_STRUCT(args_type, (std::int32_t, pid),
                             (ebpfpub::in_struct<::rlimit64>, new_rlim),
                             (ebpfpub::out_struct<::rlimit64>, old_rlim));
  };
};

ebpfpub::expected<void> use(ebpfpub::tracer& t) {
  return t.trace<sys::prlimit64>([](const ebpfpub::event<sys::prlimit64>&) {});
}
