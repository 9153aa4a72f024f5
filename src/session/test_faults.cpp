#include "session/test_faults.hpp"

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <string>

#include <bpf/bpf.h>
#include <fmt/format.h>

namespace ebpfpub::detail {

injected_faults injected_faults::from_environment() {
  injected_faults f;
  const char* value = std::getenv("EBPFPUB_TEST_FAIL");
  if (!value) return f;
  const std::string_view text(value);
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return f;
  const auto what = text.substr(0, colon);
  const auto number = text.substr(colon + 1);
  std::uint32_t n = 0;
  if (std::from_chars(number.data(), number.data() + number.size(), n).ec != std::errc{} || n == 0)
    return f;
  if (what == "map") f.kind_ = kind::map;
  else if (what == "program") f.kind_ = kind::program;
  else if (what == "attach") f.kind_ = kind::attach;
  f.at_ = n;
  return f;
}

bool injected_faults::fail_next(kind k) {
  if (k != kind_) return false;
  return ++seen_ == at_;
}

expected<map> injected_faults::rejected_map(std::string_view name) {
  const std::string map_name(name.substr(0, BPF_OBJ_NAME_LEN - 1));
  const int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, map_name.c_str(), 4, 0, 1, nullptr);
  if (fd >= 0) return map{unique_fd(fd), map_name, 0};  // cannot happen: the kernel wants a value
  return error::from_errno(errno, fmt::format("creating map {} (EBPFPUB_TEST_FAIL)", map_name));
}

const std::vector<bpf_insn>& injected_faults::rejected_program() {
  // r0 = *(u64 *)(r10 + 8); exit
  static const std::vector<bpf_insn> program{
      {.code = BPF_LDX | BPF_MEM | BPF_DW, .dst_reg = BPF_REG_0, .src_reg = BPF_REG_10, .off = 8, .imm = 0},
      {.code = BPF_JMP | BPF_EXIT, .dst_reg = 0, .src_reg = 0, .off = 0, .imm = 0}};
  return program;
}

attach_mode attach_mode_for_tests(attach_mode mode) {
  const char* forced = std::getenv("EBPFPUB_TEST_ATTACH");
  if (mode != attach_mode::automatic || !forced) return mode;
  const std::string_view value(forced);
  if (value == "dispatch") return attach_mode::dispatch;
  if (value == "tracepoints") return attach_mode::tracepoints;
  return mode;
}

bool helper_reads_for_tests() {
  const char* forced = std::getenv("EBPFPUB_TEST_READS");
  return forced && std::string_view(forced) == "helpers";
}

ring_write ring_write_for_tests(ring_write write) {
  const char* forced = std::getenv("EBPFPUB_TEST_RING_WRITE");
  // Only a tracer that kept the default is forced: a test that chose a way keeps it.
  if (write != resource_options{}.write || !forced) return write;
  const std::string_view value(forced);
  if (value == "staged") return ring_write::staged;
  if (value == "reserved") return ring_write::reserved;
  if (value == "automatic") return ring_write::automatic;
  return write;
}

}  // namespace ebpfpub::detail
