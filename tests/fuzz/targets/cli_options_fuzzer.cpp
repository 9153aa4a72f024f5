// Feeds arbitrary command lines to ebpftracer's option parsing: every input is parsed or
// refused with CLI11's message, never a crash. Input: arguments separated by NUL bytes.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "options.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> args{"ebpftracer"};
  std::string current;
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      args.push_back(current);
      current.clear();
    } else {
      current.push_back(static_cast<char>(data[i]));
    }
  }
  if (!current.empty()) args.push_back(current);
  if (args.size() > 64) return 0;
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  // CLI11 prints help and errors; keep the fuzzer's output readable.
  std::FILE* out = std::freopen("/dev/null", "w", stdout);
  (void)out;
  auto parsed = ebpftracer::parse_options(static_cast<int>(argv.size()), argv.data());
  if (parsed.run) {
    for (const auto& name : ebpftracer::split_list(parsed.settings.list))
      if (name.empty() || name.find(',') != std::string::npos) __builtin_trap();
  }
  return 0;
}
