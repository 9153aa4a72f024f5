#pragma once
// A bounded map that forgets its least recently used entry, counting what it does
// (cache_statistics).

#include <cstddef>
#include <list>
#include <unordered_map>
#include <utility>

#include <ebpfpub/context/cgroup.hpp>

namespace ebpfpub::detail {

template <typename Key, typename Value, typename Hash = std::hash<Key>>
class lru_cache {
 public:
  explicit lru_cache(std::size_t capacity) { stats_.capacity = capacity; }

  /// The value for `key`, now the most recent; null when absent (a miss, counted).
  const Value* find(const Key& key) {
    const auto hit = index_.find(key);
    if (hit == index_.end()) {
      ++stats_.misses;
      return nullptr;
    }
    ++stats_.hits;
    entries_.splice(entries_.begin(), entries_, hit->second);
    return &hit->second->second;
  }
  /// Adds `key` (absent) as the most recent, evicting the least recent when full.
  const Value& insert(const Key& key, Value value) {
    if (stats_.capacity > 0 && entries_.size() >= stats_.capacity) {
      index_.erase(entries_.back().first);
      entries_.pop_back();
      ++stats_.evictions;
    }
    entries_.emplace_front(key, std::move(value));
    index_[key] = entries_.begin();
    return entries_.front().second;
  }
  void failed() { ++stats_.failures; }
  cache_statistics stats() const {
    auto s = stats_;
    s.size = entries_.size();
    return s;
  }

 private:
  std::list<std::pair<Key, Value>> entries_;  // most recent first
  std::unordered_map<Key, typename std::list<std::pair<Key, Value>>::iterator, Hash> index_;
  cache_statistics stats_;
};

}  // namespace ebpfpub::detail
