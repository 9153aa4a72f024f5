// The process-lifetime table of syscall and field names that events point into.
#include <array>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

#include <ebpfpub/event.hpp>

namespace ebpfpub {
namespace {

struct name_table {
  std::mutex mutex;
  std::deque<std::string> storage;  // a deque never moves what it holds
  std::unordered_set<std::string_view> names;
};

name_table& table() {
  // Never destroyed: an event held in a static outlives every other static.
  static auto* t = new name_table;
  return *t;
}

std::string_view intern_slow(std::string_view name) {
  auto& t = table();
  std::lock_guard lock(t.mutex);
  if (auto it = t.names.find(name); it != t.names.end()) return *it;
  const std::string_view kept = t.storage.emplace_back(name);
  t.names.insert(kept);
  return kept;
}

// Names are a few bytes: a loop the compiler inlines beats a call to memcmp.
bool same_text(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) return false;
  return true;
}

}  // namespace

std::string_view intern_name(std::string_view name) {
  // Every decoded record interns its syscall's name and each argument's: a lock and a
  // hash per name would cost more than decoding an openat record (~80 ns). The plans'
  // strings stay put while a tracer lives, so a small per-thread cache keyed by their
  // address answers nearly every call; comparing the text too keeps a reused address
  // from answering with another name.
  struct slot {
    const char* key = nullptr;
    std::string_view interned;
  };
  thread_local std::array<slot, 256> cache{};
  auto& s = cache[(reinterpret_cast<std::uintptr_t>(name.data()) >> 3) % cache.size()];
  if (s.key == name.data() && same_text(s.interned, name)) return s.interned;
  s = {name.data(), intern_slow(name)};
  return s.interned;
}

}  // namespace ebpfpub
