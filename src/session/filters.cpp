#include "session/filters.hpp"

#include <bpf/bpf.h>
#include <fmt/format.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "codegen/filter_sets.hpp"

namespace ebpfpub::detail {

expected<void> session_filters::add(std::string_view text, const std::vector<plan>& plans,
                                    context_fields context) {
  auto parsed = filter::parse(text);
  if (!parsed) return parsed.error();
  auto syscall = filter::syscall_of(*parsed, text);
  if (!syscall) return syscall.error();
  if (!syscall->empty()) {
    const auto it = std::find_if(plans.begin(), plans.end(),
                                 [&](const plan& p) { return p.syscall.name == *syscall; });
    if (it == plans.end())
      return error(
          errc::invalid_argument,
          fmt::format("filter: {} is not traced; trace it before adding a filter on it\n{}",
                      *syscall, filter::caret(text, {0, text.size()})));
    if (auto checked = filter::check(*parsed, *it, text, context); !checked) return checked.error();
  } else {
    for (const auto& p : plans)
      if (auto checked = filter::check(*parsed, p, text, context); !checked) return checked.error();
  }
  added_.push_back({std::string(text), std::move(*parsed), std::move(*syscall)});
  return {};
}

namespace {

using source = filter::operand_source::kind;

// A set compared through a map: `in`, `startswith` or `endswith` on more than
// unrolled_set_items values (comm's stay unrolled).
bool is_map_set(const filter::checked_comparison& c) {
  const bool affix = c.op == filter::comparison_op::starts_with || c.op == filter::comparison_op::ends_with;
  return (c.op == filter::comparison_op::in || affix) && c.operand.type == filter::value::kind::set &&
         c.operand.items.size() > filter::unrolled_set_items && c.source.type != source::comm;
}

// A prefix or suffix trie's key bytes: the longest value, rounded up to 8.
std::uint32_t affix_key_size(const filter::checked_comparison& c) {
  std::size_t longest = 1;
  for (const auto& item : c.operand.items) longest = std::max(longest, item.text.size());
  return static_cast<std::uint32_t>((longest + 7) / 8 * 8);
}

expected<void> put(const map& m, const void* key) {
  const std::uint8_t one = 1;
  if (bpf_map_update_elem(m.fd.get(), key, &one, BPF_ANY) != 0)
    return error::from_errno(errno, fmt::format("filling filter set map {}", m.name));
  return {};
}

}  // namespace

expected<void> session_filters::make_set_maps(filter::checked_expression& e) {
  for (auto& o : e.operands)
    if (auto ok = make_set_maps(o); !ok) return ok;
  auto& c = e.test;
  if (e.type != filter::expression::kind::comparison || !is_map_set(c)) return {};
  const auto& items = c.operand.items;
  const auto entries = static_cast<std::uint32_t>(items.size());
  const auto name = fmt::format("ebpfpub_set{}", set_maps_.size());
  if (c.op != filter::comparison_op::in) {
    // Prefixes (or suffixes, reversed) in an LPM trie: a u32 bit count, then the bytes.
    const bool suffix = c.op == filter::comparison_op::ends_with;
    const auto key_size = affix_key_size(c);
    auto m = create_set_map(name, 4 + key_size, entries, true);
    if (!m) return m.error();
    std::vector<std::uint8_t> key(4 + key_size);
    for (const auto& item : items) {
      std::fill(key.begin(), key.end(), 0);
      const auto bits = static_cast<std::uint32_t>(8 * item.text.size());
      std::memcpy(key.data(), &bits, 4);
      if (suffix)
        std::copy(item.text.rbegin(), item.text.rend(), key.begin() + 4);
      else
        std::copy(item.text.begin(), item.text.end(), key.begin() + 4);
      if (auto ok = put(*m, key.data()); !ok) return ok;
    }
    c.set_key_size = key_size;
    c.set_map = m->fd.get();
    set_maps_.push_back(std::move(*m));
    return {};
  }
  switch (c.source.type) {
    case source::comm:
      return {};  // 16 bytes: two compares per value stay cheap enough
    case source::string_capture:
    case source::context_string:
    case source::fd_string:
    case source::fd_path: {
      std::size_t longest = 1;
      for (const auto& item : items) longest = std::max(longest, item.text.size());
      const auto key_size = static_cast<std::uint32_t>((longest + 7) / 8 * 8);
      auto m = create_set_map(name, key_size, entries, false);
      if (!m) return m.error();
      std::vector<std::uint8_t> key(key_size);
      for (const auto& item : items) {
        std::fill(key.begin(), key.end(), 0);
        std::memcpy(key.data(), item.text.data(), item.text.size());
        if (auto ok = put(*m, key.data()); !ok) return ok;
      }
      c.set_key_size = key_size;
      c.set_map = m->fd.get();
      set_maps_.push_back(std::move(*m));
      return {};
    }
    case source::sockaddr_address:
    case source::fd_address: {
      auto m = create_set_map(name, sizeof(address_set_key), entries, true);
      if (!m) return m.error();
      for (const auto& item : items) {
        address_set_key key{};
        const bool v4 = item.block.family == AF_INET;
        key.prefix_bits = 32u + std::min<std::uint32_t>(item.block.prefix, v4 ? 32 : 128);
        key.family[2] = static_cast<std::uint8_t>(item.block.family >> 8);
        key.family[3] = static_cast<std::uint8_t>(item.block.family);
        std::memcpy(key.address, item.block.bytes.data(), v4 ? 4 : 16);
        if (auto ok = put(*m, &key); !ok) return ok;
      }
      c.set_map = m->fd.get();
      set_maps_.push_back(std::move(*m));
      return {};
    }
    default: {
      auto m = create_set_map(name, 8, entries, false);
      if (!m) return m.error();
      for (const auto& item : items) {
        const std::uint64_t key = set_number_key(c.source, item.integer);
        if (auto ok = put(*m, &key); !ok) return ok;
      }
      c.set_map = m->fd.get();
      set_maps_.push_back(std::move(*m));
      return {};
    }
  }
}

namespace {

bool reads_fd_path(const filter::checked_expression& e) {
  for (const auto& o : e.operands)
    if (reads_fd_path(o)) return true;
  return e.type == filter::expression::kind::comparison && e.test.source.type == source::fd_path;
}

// Keys and values of the maps `e`'s sets of more than unrolled_set_items values become.
std::uint64_t planned_set_bytes(const filter::checked_expression& e) {
  std::uint64_t bytes = 0;
  for (const auto& o : e.operands) bytes += planned_set_bytes(o);
  const auto& c = e.test;
  if (e.type != filter::expression::kind::comparison || !is_map_set(c)) return bytes;
  if (c.op != filter::comparison_op::in) return bytes + c.operand.items.size() * (4 + affix_key_size(c) + 1);
  std::size_t key = 8;
  switch (c.source.type) {
    case source::string_capture:
    case source::context_string:
    case source::fd_string:
    case source::fd_path: {
      std::size_t longest = 1;
      for (const auto& item : c.operand.items) longest = std::max(longest, item.text.size());
      key = (longest + 7) / 8 * 8;
      break;
    }
    case source::sockaddr_address:
    case source::fd_address:
      key = sizeof(address_set_key);
      break;
    default:
      break;
  }
  return bytes + c.operand.items.size() * (key + 1);  // one byte of value each
}

}  // namespace

std::uint64_t session_filters::set_map_bytes(const std::vector<plan>& plans, context_fields context) const {
  std::uint64_t bytes = 0;
  if (!set_maps_.empty()) {
    for (const auto& m : set_maps_) bytes += map_memory(m.fd.get());
    return bytes;
  }
  for_each_checked(plans, context, [&](const auto& checked) { bytes += planned_set_bytes(checked); });
  return bytes;
}

std::uint32_t session_filters::path_scratch_bytes(const std::vector<plan>& plans, context_fields context) const {
  bool walks = static_cast<bool>(fd_path_scratch_.fd);
  for_each_checked(plans, context, [&](const auto& checked) { walks = walks || reads_fd_path(checked); });
  return walks ? fd_path_scratch::size : 0;
}

expected<std::vector<filter::checked_expression>> session_filters::for_plans(
    const std::vector<plan>& plans, context_fields context) {
  std::vector<filter::checked_expression> out;
  set_maps_.clear();
  fd_path_scratch_ = map{};
  if (added_.empty()) return out;
  for (const auto& p : plans) {
    // Several filters on one syscall must all pass: an `and` of them.
    filter::checked_expression all;
    all.type = filter::expression::kind::all_of;
    for (const auto& f : added_) {
      if (!f.syscall.empty() && f.syscall != p.syscall.name) continue;
      auto checked = filter::check(f.parsed, p, f.text, context);
      if (!checked) return checked.error();
      all.at_enter = all.at_enter && checked->at_enter;
      all.operands.push_back(std::move(*checked));
    }
    if (auto ok = make_set_maps(all); !ok) return ok.error();
    out.push_back(std::move(all));
  }
  // One scratch value per thread for every path filter: task storage, so a thread that is
  // preempted mid-walk finds its own bytes again (a per-CPU buffer could be another's).
  if (std::any_of(out.begin(), out.end(), [](const auto& e) { return reads_fd_path(e); })) {
    auto scratch = create_task_storage_map("ebpfpub_fdpath", fd_path_scratch::size);
    if (!scratch) return scratch.error();
    fd_path_scratch_ = std::move(*scratch);
  }
  return out;
}

}  // namespace ebpfpub::detail
