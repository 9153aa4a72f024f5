// A serializer ebpfpub does not ship: clock_nanosleep's requested duration, read from
// the caller's `struct __kernel_timespec` and decoded into std::chrono::nanoseconds.
// docs/custom-serializers.md walks through it.
//
//   trace_sleeps              print every clock_nanosleep on the system until Ctrl-C
//   trace_sleeps --self-test  sleep 1.25 ms in a child and check the traced duration

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <string_view>

#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <boost/hana/define_struct.hpp>
#include <fmt/format.h>

#include <ebpfpub/ebpfpub.hpp>

namespace sleeps {

/// The value type of the captured argument.
struct requested_duration {
  std::uint64_t address = 0;
  std::chrono::nanoseconds value{0};
  ebpfpub::capture_status status = ebpfpub::capture_status::not_captured;
};

/// Found by argument-dependent lookup when ebpfpub decodes a member of this type.
inline void decode_argument(const ebpfpub::record_view& r, std::size_t i, requested_duration& out) {
  out.address = r.argument(i);
  const auto c = r.capture_of(i);
  out.status = c.status;
  struct {
    std::int64_t seconds;
    std::int64_t nanoseconds;
  } ts{};
  if (c.data.size() < sizeof(ts)) return;
  std::memcpy(&ts, c.data.data(), sizeof(ts));
  out.value = std::chrono::seconds(ts.seconds) + std::chrono::nanoseconds(ts.nanoseconds);
}

}  // namespace sleeps

namespace sys = ebpfpub::syscalls;

/// The customization point: what to capture, and how it decodes.
template <>
struct ebpfpub::serializer<sys::clock_nanosleep> {
  static constexpr std::string_view name = "sleep_duration";

  // Same order and kernel names as the tracepoint: which_clock, flags, rqtp, rmtp.
  struct args_type {
    BOOST_HANA_DEFINE_STRUCT(args_type, (std::int32_t, which_clock), (std::int32_t, flags),
                             (sleeps::requested_duration, rqtp), (ebpfpub::user_pointer, rmtp));
  };

  static plan make_plan(const plan_options& options) {
    plan p = make_generic_plan(describe<sys::clock_nanosleep>(), options);
    p.serializer_name = std::string(name);
    // 16 bytes of argument 2 (rqtp), read at enter: the kernel reads it then too.
    p.captures.push_back({.argument = 2, .op = capture_op::buffer, .when = syscall_phase::enter,
                          .length = length_source::fixed, .max_bytes = 16});
    return p;
  }

  static args_type decode(const record_view& r) { return decode_members<args_type>(r); }
};

static_assert(ebpfpub::serializable<sys::clock_nanosleep>);

namespace {
std::atomic<bool> stop{false};
}

int main(int argc, char** argv) {
  const bool self_test = argc > 1 && std::string_view(argv[1]) == "--self-test";
  auto tracer = ebpfpub::tracer::create();
  if (!tracer) {
    fmt::print(stderr, "trace_sleeps: {}\n", tracer.error().what());
    return 1;
  }

  pid_t child = 0;
  bool seen = false;
  auto traced = tracer->trace<sys::clock_nanosleep>([&](const ebpfpub::event<sys::clock_nanosleep>& e) {
    if (self_test && e.header.process_id != static_cast<std::uint32_t>(child)) return;
    fmt::print("process {} slept {} ns (clock {}) -> {}\n", e.header.process_id,
               e.args.rqtp.value.count(), e.args.which_clock, e.header.exit_code);
    seen = seen || e.args.rqtp.value == std::chrono::microseconds(1250);
  });
  if (!traced) {
    fmt::print(stderr, "trace_sleeps: {}\n", traced.error().what());
    return 1;
  }
  if (auto started = tracer->start(); !started) {
    fmt::print(stderr, "trace_sleeps: {}\n", started.error().what());
    return 1;
  }

  if (!self_test) {
    std::signal(SIGINT, [](int) { stop = true; });
    auto ran = tracer->run_until(stop);
    return ran ? 0 : 1;
  }

  child = ::fork();
  if (child == 0) {
    const timespec duration{0, 1'250'000};
    ::clock_nanosleep(CLOCK_MONOTONIC, 0, &duration, nullptr);
    ::_exit(0);
  }
  ::waitpid(child, nullptr, 0);
  for (int i = 0; i < 20 && !seen; ++i) (void)tracer->poll(std::chrono::milliseconds(50));
  fmt::print("{}\n", seen ? "self-test passed" : "self-test FAILED: no 1.25 ms sleep traced");
  return seen ? 0 : 1;
}
