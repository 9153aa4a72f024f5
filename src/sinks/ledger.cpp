// The consumer's side: records arrive from a bus (untrusted text); each is parsed with
// every field checked, and accounted per host.

#include <fmt/format.h>

#include <ebpfpub/sinks/ledger.hpp>
#include <limits>
#include <nlohmann/json.hpp>

namespace ebpfpub::sinks {
namespace {

using json = nlohmann::json;

error bad(std::string_view why) {
  return error(errc::malformed_input, fmt::format("stream record: {}", why));
}

// An unsigned field, or an error naming it.
expected<std::uint64_t> unsigned_field(const json& object, const char* name, const char* where) {
  const auto it = object.find(name);
  if (it == object.end()) return bad(fmt::format("{} has no \"{}\"", where, name));
  if (!it->is_number_unsigned())
    return bad(fmt::format("{}.{} is not an unsigned integer", where, name));
  return it->get<std::uint64_t>();
}

expected<std::string> string_field(const json& object, const char* name, const char* where) {
  const auto it = object.find(name);
  if (it == object.end()) return bad(fmt::format("{} has no \"{}\"", where, name));
  if (!it->is_string()) return bad(fmt::format("{}.{} is not a string", where, name));
  return it->get<std::string>();
}

}  // namespace

expected<parsed_record> parse_record(std::string_view text) {
  const json doc = json::parse(text.begin(), text.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return bad("not a JSON object");
  parsed_record r;
  const auto host = doc.find("host");
  if (host == doc.end() || !host->is_object()) return bad("no \"host\" object");
  auto name = string_field(*host, "name", "host");
  if (!name) return name.error();
  auto boot = string_field(*host, "boot_id", "host");
  if (!boot) return boot.error();
  r.host_name = std::move(*name);
  r.boot_id = std::move(*boot);
  auto seq = unsigned_field(doc, "seq", "record");
  if (!seq) return seq.error();
  r.seq = *seq;
  r.seq_first = r.seq;

  const auto event = doc.find("event");
  const auto gap = doc.find("gap");
  if ((event == doc.end()) == (gap == doc.end()))
    return bad("a record holds exactly one of \"event\" and \"gap\"");
  if (event != doc.end()) {
    if (!event->is_object()) return bad("\"event\" is not an object");
    // The event's own fields are the event format's (docs/event-format.md); only the
    // ones accounting and latency need are required.
    auto ts = unsigned_field(*event, "timestamp", "event");
    if (!ts) return ts.error();
    auto sc = string_field(*event, "syscall", "event");
    if (!sc) return sc.error();
    r.timestamp = *ts;
    r.syscall = std::move(*sc);
    if (const auto pid = event->find("process_id");
        pid != event->end() && pid->is_number_unsigned())
      r.process_id = static_cast<std::uint32_t>(pid->get<std::uint64_t>());
    return r;
  }
  if (!gap->is_object()) return bad("\"gap\" is not an object");
  r.is_gap = true;
  auto count = unsigned_field(*gap, "count", "gap");
  if (!count) return count.error();
  auto reason = string_field(*gap, "reason", "gap");
  if (!reason) return reason.error();
  r.count = *count;
  r.reason = std::move(*reason);
  if (gap->contains("syscall")) {
    auto sc = string_field(*gap, "syscall", "gap");
    if (!sc) return sc.error();
    r.syscall = std::move(*sc);
  }
  r.seq_first = r.seq;
  if (gap->contains("seq_first")) {
    auto first = unsigned_field(*gap, "seq_first", "gap");
    if (!first) return first.error();
    if (*first > r.seq) return bad("gap.seq_first is after the gap's seq");
    r.seq_first = *first;
  }
  if (gap->contains("records")) {
    auto records = unsigned_field(*gap, "records", "gap");
    if (!records) return records.error();
    if (*records == 0) return bad("gap.records is 0");
    r.records = *records;
  }
  return r;
}

bool host_ledger::complete(std::uint64_t expected_first) const {
  return missing(expected_first).empty();
}

std::vector<std::pair<std::uint64_t, std::uint64_t>> host_ledger::missing(
    std::uint64_t expected_first) const {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> holes;
  std::uint64_t next = expected_first;
  for (const auto& [first, last] : covered) {
    if (last < next) continue;
    if (first > next) holes.emplace_back(next, first - 1);
    if (last == std::numeric_limits<std::uint64_t>::max()) return holes;
    next = last + 1;
  }
  if (!covered.empty() && next <= last_seq) holes.emplace_back(next, last_seq);
  return holes;
}

namespace {

// Is any of [first, last] already covered?
bool overlaps(const std::map<std::uint64_t, std::uint64_t>& covered, std::uint64_t first,
              std::uint64_t last) {
  auto it = covered.upper_bound(last);  // first range starting after `last`
  if (it == covered.begin()) return false;
  --it;
  return it->second >= first;
}

void cover(std::map<std::uint64_t, std::uint64_t>& covered, std::uint64_t first,
           std::uint64_t last) {
  auto [it, inserted] = covered.emplace(first, last);
  if (!inserted) it->second = std::max(it->second, last);
  // Merge with the range before and those after, so the map stays small on a long run.
  if (it != covered.begin()) {
    auto prev = std::prev(it);
    if (prev->second >= first || prev->second + 1 == first) {
      prev->second = std::max(prev->second, last);
      covered.erase(it);
      it = prev;
    }
  }
  constexpr auto max = std::numeric_limits<std::uint64_t>::max();
  for (auto next = std::next(it);
       next != covered.end() && (it->second == max || next->first <= it->second + 1);) {
    it->second = std::max(it->second, next->second);
    next = covered.erase(next);
  }
}

// Does a sink gap already cover any of [first, last]? (The same gap record again.)
bool overlaps_sink_gap(const host_ledger& h, std::uint64_t first, std::uint64_t last) {
  auto it = h.sink_gaps.upper_bound(last);
  if (it == h.sink_gaps.begin()) return false;
  --it;
  return it->second.last >= first;
}

}  // namespace

namespace {

// How many seqs of [first, last] `ranges` holds.
std::uint64_t count_in(const std::map<std::uint64_t, std::uint64_t>& ranges, std::uint64_t first,
                       std::uint64_t last) {
  std::uint64_t n = 0;
  auto it = ranges.upper_bound(first);
  if (it != ranges.begin()) --it;
  for (; it != ranges.end() && it->first <= last; ++it) {
    const auto from = std::max(it->first, first), to = std::min(it->second, last);
    if (from <= to) n += to - from + 1;
  }
  return n;
}

// The sink gap whose range holds `seq`, if any.
host_ledger::sink_gap* sink_gap_of(host_ledger& h, std::uint64_t seq) {
  auto it = h.sink_gaps.upper_bound(seq);
  if (it == h.sink_gaps.begin()) return nullptr;
  --it;
  return seq <= it->second.last ? &it->second : nullptr;
}

// Takes `n` calls off a sink gap (and the totals): a record it replaced has arrived.
void settle(host_ledger& h, host_ledger::sink_gap& g, std::uint64_t n) {
  n = std::min(n, g.count);
  g.count -= n;
  h.gap_count -= n;
  h.gaps_by_reason[g.reason] -= n;
}

}  // namespace

std::optional<parsed_record> ledger::add(std::string_view text) {
  auto r = parse_record(text);
  if (!r) {
    ++malformed_;
    return std::nullopt;
  }
  auto& h = hosts_[r->host_name + " " + r->boot_id];
  const bool sink_side = r->is_gap && r->records > 0;
  // Seen already: the same record again, or a sink gap over a range another one covers.
  if (sink_side ? overlaps_sink_gap(h, r->seq_first, r->seq)
                : overlaps(h.received, r->seq, r->seq)) {
    ++h.duplicates;
    return std::nullopt;
  }
  if (h.covered.empty() || r->seq_first < h.first_seq) h.first_seq = r->seq_first;
  h.last_seq = std::max(h.last_seq, r->seq);
  cover(h.covered, r->seq_first, r->seq);

  if (sink_side) {
    // What of its range arrived before it is not lost.
    // Events count one call each, gap records their count.
    std::uint64_t arrived = count_in(h.received, r->seq_first, r->seq);
    for (auto it = h.received_gaps.lower_bound(r->seq_first);
         it != h.received_gaps.end() && it->first <= r->seq; ++it)
      arrived = arrived - 1 + it->second.first;
    const std::uint64_t count = r->count - std::min(arrived, r->count);
    h.sink_gaps[r->seq_first] = {r->seq, count, r->reason};
    ++h.gap_records;
    h.gap_count += count;
    h.gaps_by_reason[r->reason] += count;
    return std::move(*r);
  }
  auto* replaced_by = sink_gap_of(h, r->seq);
  cover(h.received, r->seq, r->seq);
  if (r->is_gap) {
    h.received_gaps[r->seq] = {r->count, r->reason};
    ++h.gap_records;
    h.gap_count += r->count;
    h.gaps_by_reason[r->reason] += r->count;
    if (replaced_by != nullptr) settle(h, *replaced_by, r->count);
  } else {
    ++h.events;
    ++h.events_by_syscall[r->syscall];
    if (replaced_by != nullptr) settle(h, *replaced_by, 1);
  }
  return std::move(*r);
}

std::size_t ledger::add_lines(std::string_view text) {
  std::size_t n = 0;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const auto line = text.substr(0, nl);
    if (!line.empty()) {
      add(line);
      ++n;
    }
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return n;
}

}  // namespace ebpfpub::sinks
