// The long form (a hand-written plan, a member type with its own decode_argument), and a
// serializer of one's own replacing a shipped one: both must compile, warnings as errors.
// expect: compiles
#include <chrono>
#include <cstring>

#include <boost/hana/define_struct.hpp>

#include <ebpfpub/ebpfpub.hpp>

namespace sys = ebpfpub::syscalls;

namespace sleeps {
struct requested_duration {
  std::uint64_t address = 0;
  std::chrono::nanoseconds value{0};
  ebpfpub::capture_status status = ebpfpub::capture_status::not_captured;
};
inline void decode_argument(const ebpfpub::record_view& r, std::size_t i, requested_duration& out) {
  out.address = r.argument(i);
  const auto c = r.capture_of(i);
  out.status = c.status;
  std::int64_t ts[2] = {0, 0};
  if (c.data.size() < sizeof(ts)) return;
  std::memcpy(ts, c.data.data(), sizeof(ts));
  out.value = std::chrono::seconds(ts[0]) + std::chrono::nanoseconds(ts[1]);
}
}  // namespace sleeps

template <>
struct ebpfpub::serializer<sys::clock_nanosleep> : ebpfpub::declare<sys::clock_nanosleep> {
  static constexpr std::string_view name = "sleep_duration";
  struct args_type {
    BOOST_HANA_DEFINE_STRUCT(args_type, (std::int32_t, which_clock), (std::int32_t, flags),
                             (sleeps::requested_duration, rqtp), (ebpfpub::user_pointer, rmtp));
  };
  static plan make_plan(const plan_options& options) {
    plan p = make_generic_plan(describe<sys::clock_nanosleep>(), options);
    p.serializer_name = std::string(name);
    p.captures.push_back({.argument = 2, .op = capture_op::buffer, .max_bytes = 16});
    return p;
  }
};
static_assert(ebpfpub::serializable<sys::clock_nanosleep>);
static_assert(ebpfpub::check_serializer<sys::clock_nanosleep>());

struct first_bytes : ebpfpub::declare<sys::write> {
  static constexpr std::string_view name = "first_bytes";
  struct args_type {
    BOOST_HANA_DEFINE_STRUCT(args_type, (ebpfpub::fd, fd),
                             (ebpfpub::in_buffer<ebpfpub::length_arg<"count">, 4>, buf),
                             (std::uint64_t, count));
  };
};

ebpfpub::expected<void> use(ebpfpub::tracer& t) {
  ebpfpub::register_serializer<sys::write, first_bytes>();
  if (auto ok = t.trace<sys::clock_nanosleep>([](const ebpfpub::event<sys::clock_nanosleep>&) {}); !ok)
    return ok;
  return t.trace<sys::write, first_bytes>([](const ebpfpub::event_of<first_bytes>&) {});
}
