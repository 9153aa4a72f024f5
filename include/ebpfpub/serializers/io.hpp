#pragma once
/// \file
/// Data serializers: the first `plan_options::data_size` bytes of read, write, pread64
/// and pwrite64 buffers, never more than the call moved (its return value).

#include <boost/hana/define_struct.hpp>

#include <ebpfpub/serializer.hpp>
#include <ebpfpub/serializers/helpers.hpp>
#include <ebpfpub/syscalls.hpp>

namespace ebpfpub {

namespace serializers {
/// `In` (write): the bytes the caller passed, at enter, `count` long; kept up to what the
/// call wrote. Otherwise (read): the bytes the kernel filled, at exit, `ret` long.
struct data_args {
  BOOST_HANA_DEFINE_STRUCT(data_args, (::ebpfpub::fd, fd), (::ebpfpub::user_buffer, buf),
                           (std::uint64_t, count));
};
struct positioned_data_args {
  BOOST_HANA_DEFINE_STRUCT(positioned_data_args, (::ebpfpub::fd, fd), (::ebpfpub::user_buffer, buf),
                           (std::uint64_t, count), (std::int64_t, pos));
};

template <syscall_signature S, bool In>
struct with_data {
  static constexpr std::string_view name = "data";
  using args_type = std::conditional_t<S::layout.size() == 4, positioned_data_args, data_args>;
  static plan make_plan(const plan_options& o) {
    plan p = generic_plan<S>(name, o);
    drop_capture(p, 1);  // write's `const char *buf` is data, not a string
    p.captures.push_back(In ? bytes(1, syscall_phase::enter, length_source::argument, 2, o.data_size)
                            : bytes(1, syscall_phase::exit, length_source::return_value, 0, o.data_size));
    return p;
  }
  static args_type decode(const record_view& r) {
    auto args = decode_members<args_type>(r);
    const auto moved = r.header().exit_code < 0 ? 0 : static_cast<std::uint64_t>(r.header().exit_code);
    if (args.buf.data.size() > moved) {
      args.buf.data.resize(moved);
      if (args.buf.status == capture_status::truncated) args.buf.status = capture_status::ok;
    }
    return args;
  }
};
}  // namespace serializers

template <> struct serializer<syscalls::read> : serializers::with_data<syscalls::read, false> {};
template <> struct serializer<syscalls::write> : serializers::with_data<syscalls::write, true> {};
template <> struct serializer<syscalls::pread64> : serializers::with_data<syscalls::pread64, false> {};
template <> struct serializer<syscalls::pwrite64> : serializers::with_data<syscalls::pwrite64, true> {};

}  // namespace ebpfpub
