// Signal masks: which arguments are masks (by C type), their plan, their decoding and
// their text (strace's) and JSON.
#include <catch2/catch.hpp>

#include <ebpfpub/ebpfpub.hpp>
#include <ebpfpub/syscalls.hpp>

#include "support/record_builder.hpp"

namespace sys = ebpfpub::syscalls;
using ebpfpub::capture_status;
using ebpfpub::signal_mask;
using ebpfpub::signal_mask_source;
using ebpfpub::syscall_phase;

namespace {

// Bit n-1 holds signal n.
constexpr std::uint64_t bit(int signal) { return std::uint64_t{1} << (signal - 1); }

std::string text(std::uint64_t mask) { return fmt::format("{}", signal_mask{0x1000, mask, capture_status::ok}); }

}  // namespace

TEST_CASE("a signal mask is known by its C type: const sigset_t * at enter, sigset_t * at exit") {
  CHECK(ebpfpub::signal_mask_of("const sigset_t *") == signal_mask_source::enter);
  CHECK(ebpfpub::signal_mask_of("sigset_t *") == signal_mask_source::exit);
  CHECK(ebpfpub::signal_mask_of("sigset_t*") == signal_mask_source::exit);
  CHECK(ebpfpub::signal_mask_of("sigset_t") == signal_mask_source::none);
  CHECK(ebpfpub::signal_mask_of("siginfo_t *") == signal_mask_source::none);
  CHECK(ebpfpub::signal_mask_of("const struct __aio_sigset *") == signal_mask_source::none);
  CHECK(ebpfpub::signal_mask_of("sigset_t * *") == signal_mask_source::none);
}

TEST_CASE("the generic plan reads 8 bytes of every sigset_t argument, NULL allowed") {
  const auto p = ebpfpub::make_generic_plan(ebpfpub::describe<sys::rt_sigprocmask>(), {});
  REQUIRE(p.captures.size() == 2);
  CHECK(p.captures[0] == ebpfpub::capture{.argument = 1, .op = ebpfpub::capture_op::buffer,
                                          .when = syscall_phase::exit, .max_bytes = 8, .nullable = true});
  CHECK(p.captures[1].argument == 2);
  CHECK(p.captures[1].when == syscall_phase::exit);
  CHECK(ebpfpub::check_plan(p));
  const auto timedwait = ebpfpub::make_generic_plan(ebpfpub::describe<sys::rt_sigtimedwait>(), {});
  REQUIRE(timedwait.captures.size() == 1);
  CHECK(timedwait.captures[0].argument == 0);
  CHECK(timedwait.captures[0].when == syscall_phase::enter);
  const auto ppoll = ebpfpub::make_generic_plan(ebpfpub::describe<sys::ppoll>(), {});
  REQUIRE(ppoll.captures.size() == 1);
  CHECK(ppoll.captures[0].argument == 3);
}

TEST_CASE("a dynamic event holds rt_sigprocmask's masks as signal_mask, a NULL one is not a probe error") {
  const std::vector<ebpfpub::plan> plans{ebpfpub::make_generic_plan(ebpfpub::describe<sys::rt_sigprocmask>(), {})};
  const std::uint64_t usr = bit(10) | bit(12);
  ebpfpub::test::record_builder b(0, {0, 0x7ffd1000, 0, 8});
  b.put<std::int64_t>(ebpfpub::record::offset::exit_code, 0);
  b.capture(0, 0, std::string_view(reinterpret_cast<const char*>(&usr), 8));
  b.capture(1, static_cast<std::uint8_t>(capture_status::null_pointer), "");
  auto r = ebpfpub::record_view::parse(b.bytes(), plans);
  REQUIRE(r);
  const auto e = ebpfpub::decode_dynamic(*r);
  CHECK_FALSE(e.header.probe_error);
  CHECK(std::get<signal_mask>(e.args[1].value) == signal_mask{0x7ffd1000, 0xa00, capture_status::ok});
  CHECK(std::get<signal_mask>(e.args[2].value) == signal_mask{0, 0, capture_status::null_pointer});
  CHECK(fmt::format("{}", e.args[1].value) == "[USR1 USR2]");
  CHECK(fmt::format("{}", e.args[2].value) == "NULL");
}

TEST_CASE("a short signal mask capture is truncated") {
  const std::vector<ebpfpub::plan> plans{ebpfpub::make_generic_plan(ebpfpub::describe<sys::rt_sigpending>(), {})};
  ebpfpub::test::record_builder b(0, {0x7ffd2000, 8});
  b.capture(0, 0, "\x01\x02\x03");
  auto r = ebpfpub::record_view::parse(b.bytes(), plans);
  REQUIRE(r);
  CHECK(std::get<signal_mask>(ebpfpub::decode_dynamic(*r).args[0].value).status == capture_status::truncated);
}

TEST_CASE("signal masks read as strace prints them, names without SIG") {
  CHECK(text(0) == "[]");
  CHECK(text(bit(10)) == "[USR1]");
  CHECK(text(bit(10) | bit(12)) == "[USR1 USR2]");
  CHECK(text(bit(1) | bit(2) | bit(9) | bit(17) | bit(31)) == "[HUP INT KILL CHLD SYS]");
}

TEST_CASE("real-time signals in a mask read RTMIN, RT_1 .. RT_32") {
  CHECK(text(bit(32)) == "[RTMIN]");
  CHECK(text(bit(33) | bit(34) | bit(64)) == "[RT_1 RT_2 RT_32]");
}

TEST_CASE("a mask with 42 or more of the 64 signals reads as ~[the others]") {
  CHECK(text(~std::uint64_t{0}) == "~[]");
  CHECK(text(~(bit(32) | bit(33))) == "~[RTMIN RT_1]");  // glibc's "block all"
  // Signals 1..42 (42 bits, 64*2/3 rounded down): complemented; 1..41: listed.
  CHECK(text((std::uint64_t{1} << 42) - 1) ==
        "~[RT_11 RT_12 RT_13 RT_14 RT_15 RT_16 RT_17 RT_18 RT_19 RT_20 RT_21 RT_22 RT_23 RT_24 "
        "RT_25 RT_26 RT_27 RT_28 RT_29 RT_30 RT_31 RT_32]");
  const auto listed = text((std::uint64_t{1} << 41) - 1);
  CHECK(listed.starts_with("[HUP INT QUIT "));
  CHECK(listed.ends_with(" RT_8 RT_9]"));
}

TEST_CASE("a signal mask that was not read shows why, with its address") {
  CHECK(fmt::format("{}", signal_mask{0, 0, capture_status::null_pointer}) == "NULL");
  CHECK(fmt::format("{}", signal_mask{0x20, 0, capture_status::fault}) == "<bad pointer 0x20>");
  CHECK(fmt::format("{}", signal_mask{0x20, 0, capture_status::not_captured}) == "0x20");
}

TEST_CASE("a signal mask in JSON is its number and its signals' names") {
  ebpfpub::dynamic_event e;
  e.header.syscall = "rt_sigprocmask";
  e.args.push_back({"nset", signal_mask{0x1000, bit(10) | bit(12) | bit(33), capture_status::ok}});
  e.args.push_back({"oset", signal_mask{0, 0, capture_status::null_pointer}});
  e.args.push_back({"none", signal_mask{0x1000, 0, capture_status::ok}});
  const auto json = ebpfpub::to_json(e);
  INFO(json);
  CHECK(json.find(R"("nset":{"mask":4294969856,"signals":["SIGUSR1","SIGUSR2","SIGRT_1"]})") != std::string::npos);
  CHECK(json.find(R"("oset":{"address":0,"error":"null pointer"})") != std::string::npos);
  CHECK(json.find(R"("none":{"mask":0,"signals":[]})") != std::string::npos);
}
