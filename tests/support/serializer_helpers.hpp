#pragma once
// What the serializer kernel tests share: random ports and bytes, decoded addresses, a
// child with only the standard descriptors.

#include <cstdint>
#include <random>
#include <vector>

#include <sys/syscall.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <ebpfpub/argument.hpp>

namespace ebpfpub::test {

inline std::uint16_t random_port() {
  static std::mt19937 generator{std::random_device{}()};
  return static_cast<std::uint16_t>(20000 + generator() % 40000);
}

inline socket_address decoded(const user_sockaddr& a) {
  socket_address out;
  CHECK(decode_sockaddr(a.data, out));
  return out;
}

inline std::vector<std::uint8_t> random_bytes(std::size_t n) {
  static std::mt19937 generator{std::random_device{}()};
  std::vector<std::uint8_t> bytes(n);
  for (auto& b : bytes) b = static_cast<std::uint8_t>(generator());
  return bytes;
}

// Only stdin, stdout and stderr stay open in the child, so new fds are 3, 4, ...
inline void close_inherited_fds() { ::syscall(SYS_close_range, 3, ~0U, 0); }

}  // namespace ebpfpub::test
