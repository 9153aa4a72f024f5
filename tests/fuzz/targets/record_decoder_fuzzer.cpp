// Feeds arbitrary bytes to the record decoder, against plans of a string-capturing, an
// at-enter and a signal-mask-capturing syscall: it must return an event or an error, never crash or over-read.
// The event is then printed as text and JSON, which must stay one safe line each.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include <ebpfpub/event.hpp>
#include <ebpfpub/format/json.hpp>
#include <ebpfpub/format/text.hpp>

namespace {

std::vector<ebpfpub::plan> make_plans() {
  using ebpfpub::arg_kind;
  ebpfpub::syscall_description openat{"openat",
                                      {{"dfd", "int", 16, 8, arg_kind::fd, 4, true},
                                       {"filename", "const char *", 24, 8, arg_kind::user_string, 8, false},
                                       {"flags", "int", 32, 8, arg_kind::integer, 4, true},
                                       {"mode", "umode_t", 40, 8, arg_kind::integer, 2, false}},
                                      16};
  ebpfpub::syscall_description exit_group{"exit_group",
                                          {{"error_code", "int", 16, 8, arg_kind::integer, 4, true}},
                                          16};
  // Signal masks by type: an 8-byte capture each, decoded into signal_mask (plan 2).
  ebpfpub::syscall_description rt_sigprocmask{"rt_sigprocmask",
                                              {{"how", "int", 16, 8, arg_kind::integer, 4, true},
                                               {"nset", "sigset_t *", 24, 8, arg_kind::user_pointer, 8, false},
                                               {"oset", "sigset_t *", 32, 8, arg_kind::user_pointer, 8, false},
                                               {"sigsetsize", "size_t", 40, 8, arg_kind::integer, 8, false}},
                                              16};
  return {ebpfpub::make_generic_plan(openat, {.string_size = 64}),
          ebpfpub::make_generic_plan(exit_group, {}),
          ebpfpub::make_generic_plan(rt_sigprocmask, {})};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto plans = make_plans();
  auto r = ebpfpub::record_view::parse(std::span(data, size), plans);
  if (!r) return 0;
  auto e = ebpfpub::decode_dynamic(*r);
  if (e.args.size() != r->plan().syscall.arguments.size()) std::abort();
  for (const auto& a : e.args)
    if (const auto* s = std::get_if<ebpfpub::user_string>(&a.value); s && s->value.size() > 64)
      std::abort();

  // Text: the two lines and nothing a terminal would act on; JSON: one line, no raw
  // control character.
  fmt::memory_buffer text;
  ebpfpub::append_text(text, e);
  if (std::count(text.begin(), text.end(), '\n') != 1) std::abort();
  for (const char c : text)
    if (c != '\n' && (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f)) std::abort();
  fmt::memory_buffer json;
  ebpfpub::append_json(json, e);
  for (const char c : json)
    if (static_cast<unsigned char>(c) < 0x20) std::abort();
  return 0;
}
