// The process context of an event, in text and in JSON (docs/event-format.md): only the
// fields the session selected, so events without context print as before.

#include "format/writers.hpp"

#include <ebpfpub/format/escape.hpp>

namespace ebpfpub::detail {
namespace {

void put_quoted(fmt::memory_buffer& out, std::string_view text) {
  out.push_back('\'');
  append_terminal_escaped(out, text);
  out.push_back('\'');
}

void put_json_key(fmt::memory_buffer& out, std::string_view name) {
  out.push_back('"');
  put(out, name);
  put_literal(out, "\":");
}

}  // namespace

void append_context_text(fmt::memory_buffer& out, const process_context& c) {
  if (c.fields.has(context_field::executable)) {
    put_literal(out, " executable: ");
    const auto* file = c.executable.get();
    // The path when the library could read it, else the kernel's name of the file.
    put_quoted(out, file ? (file->path.empty() ? file->name : file->path) : std::string_view());
  }
  if (c.fields.has(context_field::parent)) {
    put_literal(out, " parent_process_id: ");
    put_number(out, c.parent_process_id);
  }
  if (c.fields.wants_cgroup_id()) {
    put_literal(out, " cgroup_id: ");
    put_number(out, c.cgroup_id);
    if (c.cgroup && !c.cgroup->path.empty()) {
      put_literal(out, " cgroup: ");
      put_quoted(out, c.cgroup->path);
    }
  }
  if (c.fields.has(context_field::container) && c.cgroup && c.cgroup->container) {
    const auto& container = *c.cgroup->container;
    put_literal(out, " container: ");
    put(out, container.runtime);
    out.push_back(':');
    append_terminal_escaped(out, container.id);
  }
  if (c.fields.has(context_field::namespaces)) {
    put_literal(out, " mnt_ns: ");
    put_number(out, c.namespaces.mount);
    put_literal(out, " pid_ns: ");
    put_number(out, c.namespaces.pid);
    put_literal(out, " net_ns: ");
    put_number(out, c.namespaces.network);
    put_literal(out, " user_ns: ");
    put_number(out, c.namespaces.user);
  }
}

void append_context_json(fmt::memory_buffer& out, const process_context& c) {
  put_literal(out, ",\"context\":{");
  bool first = true;
  auto field = [&](std::string_view name) {
    if (!first) out.push_back(',');
    first = false;
    put_json_key(out, name);
  };
  if (c.fields.has(context_field::executable)) {
    field("executable");
    put_literal(out, "{\"device\":");
    put_number(out, c.executable_device);
    put_literal(out, ",\"inode\":");
    put_number(out, c.executable_inode);
    if (const auto* file = c.executable.get()) {
      put_literal(out, ",\"name\":");
      append_json_string(out, file->name);
      if (!file->path.empty()) {
        put_literal(out, ",\"path\":");
        append_json_string(out, file->path);
      }
    }
    out.push_back('}');
  }
  if (c.fields.has(context_field::parent)) {
    field("parent_process_id");
    put_number(out, c.parent_process_id);
  }
  if (c.fields.wants_cgroup_id()) {
    field("cgroup");
    put_literal(out, "{\"id\":");
    put_number(out, c.cgroup_id);
    if (c.cgroup && !c.cgroup->path.empty()) {
      put_literal(out, ",\"path\":");
      append_json_string(out, c.cgroup->path);
    }
    if (c.fields.has(context_field::container) && c.cgroup && c.cgroup->container) {
      const auto& container = *c.cgroup->container;
      put_literal(out, ",\"container\":{\"runtime\":");
      append_json_string(out, container.runtime);
      put_literal(out, ",\"id\":");
      append_json_string(out, container.id);
      if (!container.pod_uid.empty()) {
        put_literal(out, ",\"pod_uid\":");
        append_json_string(out, container.pod_uid);
      }
      out.push_back('}');
    }
    out.push_back('}');
  }
  if (c.fields.has(context_field::namespaces)) {
    field("namespaces");
    put_literal(out, "{\"mnt\":");
    put_number(out, c.namespaces.mount);
    put_literal(out, ",\"pid\":");
    put_number(out, c.namespaces.pid);
    put_literal(out, ",\"net\":");
    put_number(out, c.namespaces.network);
    put_literal(out, ",\"user\":");
    put_number(out, c.namespaces.user);
    out.push_back('}');
  }
  out.push_back('}');
}

}  // namespace ebpfpub::detail
