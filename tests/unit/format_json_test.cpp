// The library's streaming JSON equals, byte for byte, what ebpftracer printed through an
// nlohmann document (json_reference.hpp), for every kind of value the shipped
// serializers produce.
#include <catch2/catch.hpp>

#include <random>

#include <ebpfpub/ebpfpub.hpp>

#include "json_reference.hpp"
#include "support/record_builder.hpp"

using ebpfpub::capture_status;
using ebpfpub::dynamic_event;
using ebpfpub::dynamic_value;

namespace {

std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

// struct sockaddr_in / sockaddr_in6 / sockaddr_un as the kernel lays them out.
std::vector<std::uint8_t> inet(std::uint16_t port, std::array<std::uint8_t, 4> ip) {
  std::vector<std::uint8_t> b{2, 0, static_cast<std::uint8_t>(port >> 8), static_cast<std::uint8_t>(port)};
  b.insert(b.end(), ip.begin(), ip.end());
  b.resize(16, 0);
  return b;
}
std::vector<std::uint8_t> inet6(std::uint16_t port) {
  std::vector<std::uint8_t> b{10, 0, static_cast<std::uint8_t>(port >> 8), static_cast<std::uint8_t>(port), 0, 0, 0, 0};
  std::array<std::uint8_t, 16> ip{0x20, 0x01, 0x0d, 0xb8};
  ip[15] = 1;
  b.insert(b.end(), ip.begin(), ip.end());
  b.resize(28, 0);
  return b;
}
std::vector<std::uint8_t> unix_path(std::string_view path) {
  std::vector<std::uint8_t> b(2 + path.size(), 0);
  b[0] = 1;  // AF_UNIX
  std::copy(path.begin(), path.end(), b.begin() + 2);
  return b;
}

dynamic_event event_with(std::vector<ebpfpub::dynamic_argument> args) {
  dynamic_event e;
  e.header = {.timestamp = 5647804400302, .process_id = 10831, .thread_id = 10832, .user_id = 1000,
              .group_id = 1001, .exit_code = -13, .duration_ns = 20000321, .probe_error = true, .sent_at_enter = false,
              .syscall = ebpfpub::intern_name("openat")};
  e.args = std::move(args);
  return e;
}

const capture_status all_statuses[] = {capture_status::ok,    capture_status::not_captured,
                                       capture_status::truncated, capture_status::fault,
                                       capture_status::null_pointer, capture_status::no_space};

}  // namespace

TEST_CASE("JSON of every value kind equals the nlohmann writer's byte for byte") {
  std::vector<std::pair<std::string, dynamic_value>> values = {
      {"negative", std::int64_t{-100}},
      {"min", std::int64_t{INT64_MIN}},
      {"max", std::uint64_t{UINT64_MAX}},
      {"zero", std::uint64_t{0}},
      {"fd", ebpfpub::fd{-100}},
      {"pointer", ebpfpub::user_pointer{0x7ffd0000}},
      {"utf8", ebpfpub::user_string{1, "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", capture_status::ok}},
      {"invalid_utf8", ebpfpub::user_string{1, "a\xff\xc3(\xed\xa0\x80\xf4\x90\x80\x80\xc0\xafz", capture_status::ok}},
      {"control", ebpfpub::user_string{1, std::string("q\"b\\s/\b\f\n\r\t\x01\x1b\x1f\x7f", 15) + std::string(1, '\0'),
                                        capture_status::ok}},
      {"empty", ebpfpub::user_string{1, "", capture_status::ok}},
      {"buffer0", ebpfpub::user_buffer{1, {}, capture_status::ok}},
      {"buffer1", ebpfpub::user_buffer{1, bytes("a"), capture_status::ok}},
      {"buffer2", ebpfpub::user_buffer{1, bytes("ab"), capture_status::ok}},
      {"buffer3", ebpfpub::user_buffer{1, bytes("abc\xff\x00\x80"), capture_status::truncated}},
      {"inet", ebpfpub::user_sockaddr{1, inet(8080, {127, 0, 0, 1}), capture_status::ok}},
      {"inet6", ebpfpub::user_sockaddr{1, inet6(443), capture_status::ok}},
      {"unix", ebpfpub::user_sockaddr{1, unix_path("/run/x.sock"), capture_status::ok}},
      {"abstract", ebpfpub::user_sockaddr{1, unix_path(std::string_view("\0name\xff", 6)), capture_status::ok}},
      {"netlink", ebpfpub::user_sockaddr{1, {16, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}, capture_status::ok}},
      {"short_inet", ebpfpub::user_sockaddr{1, {2, 0, 0x1f}, capture_status::truncated}},
      {"argv", ebpfpub::user_string_array{1, {"ls", "-l", "\xff\n"}, capture_status::ok}},
      {"argv_cut", ebpfpub::user_string_array{1, {"a"}, capture_status::truncated}},
      {"argv_empty", ebpfpub::user_string_array{1, {}, capture_status::ok}},
      {"fds", ebpfpub::fd_pair{1, 3, 4, capture_status::ok}},
      {"how", ebpfpub::open_how{1, 0102, 0640, 0x10, capture_status::ok}},
      {"clone", ebpfpub::clone_args{1, 0x200000, 17, capture_status::ok}},
      {"sigset", ebpfpub::signal_mask{1, 0xa00 | (std::uint64_t{1} << 63), capture_status::ok}},
      {"sigset_empty", ebpfpub::signal_mask{1, 0, capture_status::ok}},
  };
  // Every capture status for every captured kind (ok and truncated with data above).
  for (const auto status : all_statuses) {
    const std::string s(ebpfpub::to_string(status));
    values.push_back({"string_" + s, ebpfpub::user_string{0xdead, "", status}});
    values.push_back({"buffer_" + s, ebpfpub::user_buffer{0xdead, {}, status}});
    values.push_back({"sockaddr_" + s, ebpfpub::user_sockaddr{0xdead, {}, status}});
    values.push_back({"argv_" + s, ebpfpub::user_string_array{0xdead, {}, status}});
    values.push_back({"fds_" + s, ebpfpub::fd_pair{0xdead, -1, -1, status}});
    values.push_back({"how_" + s, ebpfpub::open_how{0xdead, 0, 0, 0, status}});
    values.push_back({"clone_" + s, ebpfpub::clone_args{0xdead, 0, 0, status}});
    values.push_back({"sigset_" + s, ebpfpub::signal_mask{0xdead, 0, status}});
  }
  std::vector<ebpfpub::dynamic_argument> all;
  for (const auto& [name, value] : values) {
    INFO(name);
    const dynamic_event one = event_with({{ebpfpub::intern_name(name), value}});
    CHECK(ebpfpub::to_json(one) == ebpfpub::test::reference::format_json(one));
    all.push_back({ebpfpub::intern_name(name), value});
  }
  const auto e = event_with(all);
  CHECK(ebpfpub::to_json(e) == ebpfpub::test::reference::format_json(e));
  auto quiet = event_with({});
  quiet.header.probe_error = false;
  CHECK(ebpfpub::to_json(quiet) ==
        "{\"timestamp\":5647804400302,\"process_id\":10831,\"thread_id\":10832,\"user_id\":1000,"
        "\"group_id\":1001,\"syscall\":\"openat\",\"exit_code\":-13,\"duration_ns\":20000321,\"probe_error\":false,\"args\":{}}");
  CHECK(ebpfpub::to_json(quiet) == ebpfpub::test::reference::format_json(quiet));
}

TEST_CASE("JSON strings escape as the documented format says") {
  const auto e = event_with({{"s", ebpfpub::user_string{1, "a\"\\\n\x1b\xff", capture_status::ok}},
                             {"b", ebpfpub::user_buffer{1, bytes("hi!"), capture_status::ok}},
                             {"f", ebpfpub::user_string{0x10, "", capture_status::fault}}});
  const auto json = ebpfpub::to_json(e);
  CHECK(json.ends_with(
      R"("args":{"s":"a\"\\\n\u001b\\xff","b":"aGkh","f":{"address":16,"error":"bad pointer"}}})"));
}

TEST_CASE("the JSON summary line equals the nlohmann writer's") {
  ebpfpub::statistics stats;
  stats.by_syscall.push_back({.syscall = "openat", .events = 12, .probe_errors = 2, .lost_output_full = 3});
  stats.by_syscall.push_back({.syscall = "execve", .events = 0, .lost_no_storage = 1, .lost_malformed = 4});
  fmt::memory_buffer out;
  ebpfpub::append_json_summary(out, stats);
  CHECK(fmt::to_string(out) == ebpfpub::test::reference::format_json_summary(stats));
  CHECK(fmt::to_string(out) ==
        R"({"summary":{"events":12,"lost":8,"probe_errors":2,"by_syscall":{"openat":{"events":12,"lost":3},"execve":{"events":0,"lost":5}}}})");
  out.clear();
  ebpfpub::append_json_summary(out, ebpfpub::statistics{});
  CHECK(fmt::to_string(out) == ebpfpub::test::reference::format_json_summary(ebpfpub::statistics{}));
}

TEST_CASE("the JSON summary adds rate-limited calls and the processes that made them, only when there are") {
  ebpfpub::statistics stats;
  stats.by_syscall.push_back({.syscall = "getppid", .events = 1100, .rate_limited = 865972});
  stats.by_syscall.push_back({.syscall = "openat", .events = 7});
  stats.rate_limited_processes = {{4711, "getppid", 865970}, {4712, "getppid", 2}};
  fmt::memory_buffer out;
  ebpfpub::append_json_summary(out, stats);
  CHECK(fmt::to_string(out) ==
        R"({"summary":{"events":1107,"lost":0,"probe_errors":0,"rate_limited":865972,)"
        R"("rate_limited_processes":[{"process_id":4711,"syscall":"getppid","count":865970},)"
        R"({"process_id":4712,"syscall":"getppid","count":2}],)"
        R"("by_syscall":{"getppid":{"events":1100,"lost":0,"rate_limited":865972},"openat":{"events":7,"lost":0}}}})");
}

TEST_CASE("the JSON summary adds calls rejected by filter expressions, only when there are") {
  ebpfpub::statistics stats;
  stats.by_syscall.push_back({.syscall = "openat", .events = 2, .filtered = 29});
  stats.by_syscall.push_back({.syscall = "execve", .events = 1});
  fmt::memory_buffer out;
  ebpfpub::append_json_summary(out, stats);
  CHECK(fmt::to_string(out) ==
        R"({"summary":{"events":3,"lost":0,"probe_errors":0,"filtered":29,)"
        R"("by_syscall":{"openat":{"events":2,"lost":0,"filtered":29},"execve":{"events":1,"lost":0}}}})");
}

namespace {

// A record for plan `p` (index `index` of `plans`) with every capture present.
std::vector<std::uint8_t> full_record(const std::vector<ebpfpub::plan>& plans, std::uint16_t index) {
  const auto& p = plans[index];
  std::vector<std::uint64_t> slots(p.syscall.arguments.size(), 0x7ffd0000);
  slots[0] = static_cast<std::uint64_t>(-5);
  ebpfpub::test::record_builder b(index, slots);
  b.put<std::int64_t>(ebpfpub::record::offset::exit_code, 24);
  for (std::size_t c = 0; c < p.captures.size(); ++c) {
    std::string data;
    switch (p.captures[c].op) {
      case ebpfpub::capture_op::string: data = "/tmp/\xff\x01"; break;
      case ebpfpub::capture_op::string_array: {
        static constexpr char argv[] = "sh\0-c\0echo \xe2\x82\xac";  // sizeof keeps the last NUL
        data.assign(argv, sizeof(argv));
        break;
      }
      case ebpfpub::capture_op::sockaddr: {
        const auto a = inet(53, {10, 0, 0, 1});
        data.assign(a.begin(), a.end());
        break;
      }
      case ebpfpub::capture_op::buffer:
        // pipe's fds, openat2's how and clone3's args are buffers of their struct's size.
        data = std::string(std::min<std::uint32_t>(p.captures[c].max_bytes, 24), '\x07');
        break;
      case ebpfpub::capture_op::fd_identity:
        // An open file (state 0, all zero) whose name needs escaping.
        data = std::string(ebpfpub::record::fd_identity_layout::size, '\0');
        data.replace(ebpfpub::record::fd_identity_layout::name, 3, "x\xff\x01");
        break;
      case ebpfpub::capture_op::base_directory:
        // Resolved, one component whose name needs escaping.
        data = std::string("\x01\0\0\0\x01\0\0\0d\xff\x01", 11) + '\0';
        break;
    }
    b.capture(static_cast<std::uint8_t>(c), 0, data);
  }
  return b.bytes();
}

template <typename... S>
void check_serializers() {
  const std::vector<ebpfpub::plan> plans{ebpfpub::serializer<S>::make_plan({})...};
  std::uint16_t index = 0;
  auto check = [&]<typename One>() {
    INFO(One::name);
    const auto bytes = full_record(plans, index++);
    auto r = ebpfpub::record_view::parse(bytes, plans);
    if (!r) FAIL(r.error().what());
    const ebpfpub::event<One> typed{r->header(), ebpfpub::serializer<One>::decode(*r)};
    const auto e = ebpfpub::to_dynamic(*r, typed.args);
    CHECK(ebpfpub::to_json(e) == ebpfpub::test::reference::format_json(e));
    CHECK(ebpfpub::to_json(typed) == ebpfpub::to_json(e));
    const auto generic = ebpfpub::decode_dynamic(*r);
    CHECK(ebpfpub::to_json(generic) == ebpfpub::test::reference::format_json(generic));
  };
  (check.template operator()<S>(), ...);
}

}  // namespace

TEST_CASE("JSON of every shipped serializer's decoded record equals the nlohmann writer's") {
  namespace sys = ebpfpub::syscalls;
  check_serializers<sys::pipe, sys::pipe2, sys::socketpair, sys::read, sys::write, sys::pread64,
                    sys::pwrite64, sys::connect, sys::bind, sys::sendto, sys::accept, sys::accept4,
                    sys::getsockname, sys::getpeername, sys::recvfrom, sys::sendmsg, sys::recvmsg,
                    sys::socket, sys::openat2, sys::execve, sys::execveat, sys::clone3, sys::openat,
                    sys::mkdir>();
}

TEST_CASE("JSON strings of random bytes equal the nlohmann writer's") {
  // Bytes drawn mostly from the places UTF-8 and JSON escaping go wrong: control
  // characters, quotes, backslashes, lead and continuation bytes.
  std::mt19937 random(20261128);
  const std::uint8_t interesting[] = {0x00, 0x01, 0x08, 0x0a, 0x1f, '"', '\\', '/', 'a', 0x7f, 0x80, 0xbf,
                                      0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff};
  for (int i = 0; i < 5000; ++i) {
    std::string s(random() % 12, '\0');
    for (auto& c : s)
      c = static_cast<char>(random() % 2 ? interesting[random() % sizeof(interesting)] : random() % 256);
    const auto e = event_with({{"s", ebpfpub::user_string{1, s, capture_status::ok}},
                               {"a", ebpfpub::user_string_array{1, {s, s}, capture_status::ok}}});
    INFO(ebpfpub::terminal_escape(s));
    REQUIRE(ebpfpub::to_json(e) == ebpfpub::test::reference::format_json(e));
  }
}
