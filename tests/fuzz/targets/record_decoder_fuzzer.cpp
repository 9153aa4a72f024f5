// Feeds arbitrary bytes to the record decoder, against plans of a string-capturing and
// an at-enter syscall, openat with fd identities (its dfd's and the returned fd's,
// decoded with their paths looked up in a path cache), a signal-mask-capturing one, and
// openat and renameat with their paths' base directories (resolved paths): it
// must return an event or an error, never crash or over-read.
// The event is then printed as text and JSON, which must stay one safe line each. A
// process context block is given resolved parts made from its own bytes (the executable's
// name as its path, a cgroup path built from it and the container that path names), so the
// formatters see every field filled with hostile text.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include <ebpfpub/event.hpp>
#include <ebpfpub/record.hpp>
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
  // Signal masks by type: an 8-byte capture each, decoded into signal_mask (plan 3).
  ebpfpub::syscall_description rt_sigprocmask{"rt_sigprocmask",
                                              {{"how", "int", 16, 8, arg_kind::integer, 4, true},
                                               {"nset", "sigset_t *", 24, 8, arg_kind::user_pointer, 8, false},
                                               {"oset", "sigset_t *", 32, 8, arg_kind::user_pointer, 8, false},
                                               {"sigsetsize", "size_t", 40, 8, arg_kind::integer, 8, false}},
                                              16};
  // Two paths, each with its own dfd and base directory (plan 5).
  ebpfpub::syscall_description renameat{"renameat",
                                        {{"olddfd", "int", 16, 8, arg_kind::fd, 4, true},
                                         {"oldname", "const char *", 24, 8, arg_kind::user_string, 8, false},
                                         {"newdfd", "int", 32, 8, arg_kind::fd, 4, true},
                                         {"newname", "const char *", 40, 8, arg_kind::user_string, 8, false}},
                                        16};
  return {ebpfpub::make_generic_plan(openat, {.string_size = 64}),
          ebpfpub::make_generic_plan(exit_group, {}),
          ebpfpub::make_generic_plan(openat, {.string_size = 64, .fd_identity = true}),
          ebpfpub::make_generic_plan(rt_sigprocmask, {}),
          ebpfpub::make_generic_plan(openat, {.string_size = 64, .fd_identity = true, .resolve_paths = true}),
          ebpfpub::make_generic_plan(renameat, {.string_size = 64, .resolve_paths = true})};
}

// An identity's text fields stay within the record's fields.
void check_identity(const ebpfpub::fd_identity& id) {
  namespace layout = ebpfpub::record::fd_identity_layout;
  if (id.name.size() >= layout::name_size) std::abort();
  if (id.unix_path.size() > layout::unix_path_size || id.unix_peer_path.size() > layout::unix_path_size)
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto plans = make_plans();
  static ebpfpub::path_cache paths(ebpfpub::path_cache::options{16});
  auto r = ebpfpub::record_view::parse(std::span(data, size), plans);
  if (!r) return 0;
  // Paths as the tracer gives them: what an identity decodes to is remembered, and found
  // again by a later input.
  r->attach_paths(&paths);
  if (const auto& id = r->header().returned_fd) {
    check_identity(*id);
    paths.remember({id->device, id->inode}, id->name, ebpfpub::path_origin::traced_open);
  }
  auto& context = r->context();
  if (!context.fields.empty()) {
    const auto name = r->executable_name();
    if (name.size() >= ebpfpub::record::context_name_size) std::abort();
    auto file = std::make_shared<ebpfpub::executable_file>();
    file->name = std::string(name);
    file->path = "/usr/bin/" + file->name;
    context.executable = file;
    auto cgroup = std::make_shared<ebpfpub::cgroup_info>();
    cgroup->id = context.cgroup_id;
    cgroup->path = "/system.slice/" + std::string(name) + ".scope";
    cgroup->container = ebpfpub::container_of(cgroup->path);
    context.cgroup = cgroup;
  }
  auto e = ebpfpub::decode_dynamic(*r);
  if (e.args.size() != r->plan().syscall.arguments.size()) std::abort();
  for (const auto& a : e.args) {
    if (const auto* s = std::get_if<ebpfpub::user_string>(&a.value); s && s->value.size() > 64)
      std::abort();
    // A resolved path is its base's names (at most the capture's bytes) and the argument.
    if (const auto* s = std::get_if<ebpfpub::user_string>(&a.value); s && s->resolved) {
      namespace layout = ebpfpub::record::base_directory_layout;
      if (s->resolved->path.size() > layout::name_bytes + 1 + 64) std::abort();
      if (s->resolved->state == ebpfpub::path_base_state::resolved && !s->resolved->path.starts_with('/'))
        std::abort();
    }
    if (const auto* f = std::get_if<ebpfpub::fd>(&a.value); f && f->identity) check_identity(*f->identity);
  }

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
