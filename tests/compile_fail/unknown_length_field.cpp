// A buffer whose length names a field write does not have ("len" for "count").
// expect-error: length_field_is_not_a_kernel_field<ebpfpub::syscalls::write
// expect-error: "buf"
// expect-error: "len"
#include <boost/hana/define_struct.hpp>

#include <ebpfpub/ebpfpub.hpp>

namespace sys = ebpfpub::syscalls;

struct first_bytes : ebpfpub::declare<sys::write> {
  static constexpr std::string_view name = "first_bytes";
  struct args_type {
    BOOST_HANA_DEFINE_STRUCT(args_type, (ebpfpub::fd, fd),
                             (ebpfpub::in_buffer<ebpfpub::length_arg<"len">, 4>, buf),
                             (std::uint64_t, count));
  };
};

ebpfpub::expected<void> use(ebpfpub::tracer& t) {
  return t.trace<sys::write, first_bytes>([](const ebpfpub::event_of<first_bytes>&) {});
}
