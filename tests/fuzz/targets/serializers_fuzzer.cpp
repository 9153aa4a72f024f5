// Feeds arbitrary bytes to the record decoder against the plans of every serializer ebpfpub
// ships (the record's syscall index picks one), then decodes each parsed record three
// ways: the serializer's typed decode, the typed event seen as a dynamic one, and the
// generic dynamic decode. Nothing may crash, over-read or exceed the plan's limits; the
// text (with every name) is two safe lines, the JSON one line that parses.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>
#include <vector>

#include <ebpfpub/format/json.hpp>
#include <ebpfpub/format/text.hpp>
#include <ebpfpub/serializers/all.hpp>
#include <nlohmann/json.hpp>

namespace {

// Small limits, so the fuzzer reaches the edges quickly.
constexpr ebpfpub::plan_options limits{
    .string_size = 64, .data_size = 32, .argv_items = 4, .argv_size = 128, .capture_envp = true};

// Every serializer's plan, then each again with fd identities (after the first set, so
// the plan indices the corpus's records name stay what they were).
std::vector<ebpfpub::plan> make_plans() {
  std::vector<ebpfpub::plan> plans;
  ebpfpub::serializers::specialized::for_each(
      [&]<typename S>() { plans.push_back(ebpfpub::serializer<S>::make_plan(limits)); });
  auto with_fds = limits;
  with_fds.fd_identity = true;
  ebpfpub::serializers::specialized::for_each(
      [&]<typename S>() { plans.push_back(ebpfpub::serializer<S>::make_plan(with_fds)); });
  return plans;
}

void check(bool ok) {
  if (!ok) std::abort();
}

void check_bounded(const ebpfpub::dynamic_event& e) {
  for (const auto& a : e.args) {
    if (const auto* s = std::get_if<ebpfpub::user_string>(&a.value)) check(s->value.size() <= limits.string_size);
    if (const auto* b = std::get_if<ebpfpub::user_buffer>(&a.value)) check(b->data.size() <= 4096);
    if (const auto* v = std::get_if<ebpfpub::user_string_array>(&a.value)) {
      check(v->values.size() <= limits.argv_items);
      std::size_t bytes = 0;
      for (const auto& item : v->values) bytes += item.size() + 1;
      check(bytes <= limits.argv_size + limits.argv_items);
    }
    if (const auto* f = std::get_if<ebpfpub::fd>(&a.value); f && f->identity) {
      namespace layout = ebpfpub::record::fd_identity_layout;
      check(f->identity->name.size() < layout::name_size);
      check(f->identity->unix_path.size() <= layout::unix_path_size);
      check(f->identity->unix_peer_path.size() <= layout::unix_path_size);
    }
    if (const auto* addr = std::get_if<ebpfpub::user_sockaddr>(&a.value)) {
      ebpfpub::socket_address decoded;
      (void)ebpfpub::decode_sockaddr(addr->data, decoded);
      check(decoded.path.size() <= addr->data.size());
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto plans = make_plans();
  auto r = ebpfpub::record_view::parse(std::span(data, size), plans);
  if (!r) return 0;
  const auto generic = ebpfpub::decode_dynamic(*r);
  check(generic.args.size() == r->plan().syscall.arguments.size());
  check_bounded(generic);
  const std::string_view name = r->plan().syscall.name;
  ebpfpub::serializers::specialized::for_each([&]<typename S>() {
    if (name != S::name) return;
    const auto args = ebpfpub::serializer<S>::decode(*r);
    const auto typed = ebpfpub::to_dynamic(*r, args);
    check(typed.args.size() == generic.args.size());
    check_bounded(typed);
    // Printed with every name: two lines of terminal-safe text, one line of JSON.
    fmt::memory_buffer text, json;
    ebpfpub::append_text(text, typed, {.names = true, .duration = true});
    ebpfpub::append_json(json, typed, ebpfpub::json_style::names);
    int newlines = 0;
    for (char c : text) {
      newlines += c == '\n';
      check(c == '\n' || (c >= 0x20 && c < 0x7f));
    }
    check(newlines == 1);
    for (char c : json) check(c != '\n');
    check(nlohmann::json::accept(std::string_view(json.data(), json.size())));
  });
  return 0;
}
