// Feeds arbitrary text to the filter parser, then checks what parses against the plans of
// openat, connect and execve: every input gives an expression or an error, never a crash,
// and an error always carries its caret line.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <ebpfpub/filter/expression.hpp>
#include <ebpfpub/serializers/all.hpp>

namespace sys = ebpfpub::syscalls;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // With fd identities too, so that the fd members and the context fields are checked.
  static const ebpfpub::plan_options with_fds = [] {
    ebpfpub::plan_options o;
    o.fd_identity = true;
    return o;
  }();
  static const ebpfpub::plan plans[] = {ebpfpub::serializer<sys::openat>::make_plan({}),
                                        ebpfpub::serializer<sys::connect>::make_plan({}),
                                        ebpfpub::serializer<sys::execve>::make_plan({}),
                                        ebpfpub::serializer<sys::read>::make_plan(with_fds),
                                        ebpfpub::serializer<sys::connect>::make_plan(with_fds)};
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = ebpfpub::filter::parse(text);
  if (!parsed) {
    if (parsed.error().message().find('^') == std::string::npos) std::abort();
    return 0;
  }
  (void)ebpfpub::filter::syscall_of(*parsed, text);
  for (const auto& p : plans) {
    for (const auto context : {ebpfpub::context_fields{}, ebpfpub::context_fields::all()}) {
      auto checked = ebpfpub::filter::check(*parsed, p, text, context);
      if (!checked && checked.error().message().find('^') == std::string::npos) std::abort();
    }
  }
  return 0;
}
