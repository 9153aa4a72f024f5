// The process-wide serializer registry of the by-name path.

#include <ebpfpub/registry.hpp>

#include <map>
#include <mutex>

namespace ebpfpub {
namespace {

struct registry {
  std::mutex mutex;
  std::map<std::string, registered_serializer, std::less<>> by_syscall;
};

registry& the_registry() {
  static registry r;  // built on first use: registrations may run during static init
  return r;
}

}  // namespace

void register_serializer(registered_serializer entry) {
  auto& r = the_registry();
  const std::lock_guard lock(r.mutex);
  auto name = entry.syscall;
  r.by_syscall.insert_or_assign(std::move(name), std::move(entry));
}

bool unregister_serializer(std::string_view syscall) {
  auto& r = the_registry();
  const std::lock_guard lock(r.mutex);
  const auto it = r.by_syscall.find(syscall);
  if (it == r.by_syscall.end()) return false;
  r.by_syscall.erase(it);
  return true;
}

std::optional<registered_serializer> find_serializer(std::string_view syscall) {
  auto& r = the_registry();
  const std::lock_guard lock(r.mutex);
  const auto it = r.by_syscall.find(syscall);
  if (it == r.by_syscall.end()) return std::nullopt;
  return it->second;
}

}  // namespace ebpfpub
