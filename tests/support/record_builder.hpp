#pragma once
// Builds event records by hand, byte for byte as record.hpp lays them out.

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include <ebpfpub/record.hpp>

namespace ebpfpub::test {

class record_builder {
 public:
  record_builder(std::uint16_t syscall, std::vector<std::uint64_t> args, std::uint8_t flags = 0)
      : bytes_(record::header_size + 8 * args.size(), 0) {
    put<std::uint16_t>(record::offset::syscall, syscall);
    put<std::uint8_t>(record::offset::flags, flags);
    put<std::uint8_t>(record::offset::argument_count, static_cast<std::uint8_t>(args.size()));
    put<std::uint64_t>(record::offset::timestamp, 123456789);
    put<std::uint32_t>(record::offset::process_id, 100);
    put<std::uint32_t>(record::offset::thread_id, 101);
    put<std::uint32_t>(record::offset::user_id, 1000);
    put<std::uint32_t>(record::offset::group_id, 1001);
    put<std::int64_t>(record::offset::exit_code, -2);
    put<std::uint64_t>(record::offset::duration, 4321);
    for (std::size_t i = 0; i < args.size(); ++i)
      put<std::uint64_t>(record::offset::arguments + 8 * i, args[i]);
    seal();
  }

  record_builder& capture(std::uint8_t index, std::uint8_t status, std::string_view data) {
    const std::size_t at = bytes_.size();
    bytes_.resize(at + record::capture_header_size + record::align8(static_cast<std::uint32_t>(data.size())), 0);
    put<std::uint8_t>(at, index);
    put<std::uint8_t>(at + 1, status);
    put<std::uint32_t>(at + 4, static_cast<std::uint32_t>(data.size()));
    std::memcpy(bytes_.data() + at + record::capture_header_size, data.data(), data.size());
    seal();
    return *this;
  }

  template <typename T>
  record_builder& put(std::size_t offset, T value) {
    std::memcpy(bytes_.data() + offset, &value, sizeof(T));
    return *this;
  }

  std::vector<std::uint8_t>& bytes() { return bytes_; }

 private:
  void seal() { put<std::uint32_t>(record::offset::size, static_cast<std::uint32_t>(bytes_.size())); }
  std::vector<std::uint8_t> bytes_;
};

}  // namespace ebpfpub::test
