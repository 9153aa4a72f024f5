// Filter expressions on socket addresses: family, port and CIDR blocks on IPv4 and
// IPv6, against nonblocking connects to closed loopback ports.
#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "support/filtered_run.hpp"
#include "support/serializer_helpers.hpp"

namespace sys = ebpfpub::syscalls;
using ebpfpub::test::run_filtered;

namespace {

struct target {
  std::string address;
  std::uint16_t port;
};

int connect_to(const target& t) {
  sockaddr_in in{};
  sockaddr_in6 in6{};
  if (::inet_pton(AF_INET, t.address.c_str(), &in.sin_addr) == 1) {
    in.sin_family = AF_INET;
    in.sin_port = htons(t.port);
    const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ::connect(s, reinterpret_cast<sockaddr*>(&in), sizeof(in));
    return ::close(s);
  }
  if (::inet_pton(AF_INET6, t.address.c_str(), &in6.sin6_addr) != 1) return 1;
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(t.port);
  const int s = ::socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
  ::connect(s, reinterpret_cast<sockaddr*>(&in6), sizeof(in6));
  return ::close(s);
}

}  // namespace

TEST_CASE("socket address filters: family, port and CIDR blocks on IPv4 and IPv6") {
  // One port for every generated row: the table is built once, on the first run.
  static const std::uint16_t port = 1 + ebpfpub::test::random_port();
  const std::vector<target> targets = {
      {"127.0.0.1", port}, {"127.0.0.2", port}, {"127.1.0.1", port},
      {"127.0.0.1", 1},    {"::1", port},       {"::ffff:127.0.0.1", port},
  };
  const auto [filter, expected] = GENERATE_COPY(table<std::string, std::vector<std::size_t>>({
      {"connect.uservaddr.family == AF_INET", {0, 1, 2, 3}},
      {"connect.uservaddr.family == AF_INET6", {4, 5}},
      {fmt::format("connect.uservaddr.port == {}", port), {0, 1, 2, 4, 5}},
      {"connect.uservaddr.port < 2", {3}},
      {"connect.uservaddr.port in {1, 2, 3}", {3}},
      {"connect.uservaddr.address == 127.0.0.1", {0, 3}},
      {"connect.uservaddr.address in 127.0.0.0/24", {0, 1, 3}},
      {"connect.uservaddr.address in 127.0.0.0/8", {0, 1, 2, 3}},
      {"connect.uservaddr.address in 127.0.0.2/31", {1}},
      {"connect.uservaddr.address != 127.0.0.1", {1, 2, 4, 5}},
      {"connect.uservaddr.address == ::1", {4}},
      {"connect.uservaddr.address in ::/64", {4, 5}},
      {"connect.uservaddr.address in ::ffff:0:0/96", {5}},
      {"connect.uservaddr.address in {127.1.0.0/16, ::1/128}", {2, 4}},
      {fmt::format("connect.uservaddr.port == {} and connect.uservaddr.address in 127.0.0.0/8",
                   port),
       {0, 1, 2}},
      // More than 16 blocks: an LPM trie, the longest block holding the address decides.
      {"connect.uservaddr.address in {10.0.0.0/8, 10.1.0.0/16, 172.16.0.0/12, 192.168.0.0/16, "
       "127.0.0.2/32, "
       "127.1.0.0/16, 100.64.0.0/10, 169.254.0.0/16, 198.18.0.0/15, 203.0.113.0/24, "
       "198.51.100.0/24, "
       "192.0.2.0/24, 224.0.0.0/4, 240.0.0.0/4, fd00::/8, fe80::/10, 2001:db8::/32, ::1/128}",
       {1, 2, 4}},
      {"connect.uservaddr.port in {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}",
       {3}},
  }));
  INFO(filter);
  const auto run = run_filtered<sys::connect>({filter}, targets.size(), [&] {
    for (const auto& t : targets)
      if (connect_to(t) != 0) return 1;
    return 0;
  });
  std::vector<std::string> seen, wanted;
  for (const auto& e : run.events) {
    const auto a = ebpfpub::test::decoded(e.args.uservaddr);
    seen.push_back(fmt::format("{} {}", a.address, a.port));
  }
  for (auto i : expected)
    wanted.push_back(fmt::format("{} {}", targets[i].address, targets[i].port));
  CHECK(seen == wanted);
  CHECK(run.stats.filtered == targets.size() - expected.size());
  CHECK(run.stats.lost() == 0);
}
