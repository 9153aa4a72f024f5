#pragma once
/// \file
/// The consumer's side of a stream: parse records (untrusted text from a bus) and keep,
/// per host, what arrived, what the gap records account for, what came twice, and
/// whether every sequence number is accounted for.
///
///     ebpfpub::sinks::ledger book;
///     for (auto line : lines) book.add(line);
///     for (const auto& [host, h] : book.hosts()) if (!h.complete()) ...

#include <cstdint>
#include <ebpfpub/error.hpp>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ebpfpub::sinks {

/// One record as a consumer reads it.
struct parsed_record {
  std::string host_name;
  std::string boot_id;
  std::uint64_t seq = 0;
  bool is_gap = false;
  // An event: what the consumer needs of it (the whole event stays in the text).
  std::uint64_t timestamp = 0;  ///< the event's kernel timestamp (CLOCK_MONOTONIC ns)
  std::string syscall;          ///< event's syscall, or the gap's (empty: several/unknown)
  std::uint32_t process_id = 0;
  // A gap.
  std::uint64_t count = 0;      ///< calls lost
  std::string reason;           ///< output_full, no_storage, malformed, sink_queue_full, ...
  std::uint64_t seq_first = 0;  ///< first sequence number the gap replaces (== seq if one)
  std::uint64_t records = 0;    ///< sink-side gaps: records replaced (0: a kernel-side gap)
};

/// Parses one record (one JSON object, a line of a stream). Malformed text, a missing or
/// mistyped field, is an error naming the field; never a crash.
expected<parsed_record> parse_record(std::string_view text);

/// What a consumer knows of one host (name + boot id: a reboot starts a new sequence).
///
/// A sink gives a record up when it cannot tell whether the broker stored it (its
/// acknowledgements failed); the record may still arrive, before or after the gap record
/// that replaces it. The ledger counts it once either way: as received, and the gap's
/// count less by what it accounts for, so `events + gap_count` stays the calls made.
struct host_ledger {
  std::uint64_t events = 0;      ///< distinct event records received
  std::uint64_t duplicates = 0;  ///< records whose seq had been seen (dropped)
  std::uint64_t gap_records = 0;
  std::uint64_t gap_count = 0;  ///< calls the gap records account for
  std::map<std::string, std::uint64_t> gaps_by_reason;
  std::map<std::string, std::uint64_t> events_by_syscall;
  std::uint64_t first_seq = 0;  ///< lowest seq seen
  std::uint64_t last_seq = 0;   ///< highest seq seen
  /// Sequence numbers accounted for (received, or replaced by a gap), as closed ranges.
  std::map<std::uint64_t, std::uint64_t> covered;
  /// Every seq from `expected_first` to last_seq is accounted for.
  bool complete(std::uint64_t expected_first = 0) const;
  /// The seq ranges nothing accounts for, between expected_first and last_seq.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> missing(
      std::uint64_t expected_first = 0) const;

  // Bookkeeping for the above (ledger.cpp).
  struct sink_gap {
    std::uint64_t last = 0;
    std::uint64_t count = 0;  ///< what it still accounts for
    std::string reason;
  };
  std::map<std::uint64_t, std::uint64_t> received;  ///< seqs received, as closed ranges
  std::map<std::uint64_t, std::pair<std::uint64_t, std::string>>
      received_gaps;                            ///< seq -> count, reason
  std::map<std::uint64_t, sink_gap> sink_gaps;  ///< by first seq
};

class ledger {
 public:
  /// Adds one record's text; an unparsable one is counted in malformed() and ignored.
  /// Returns the parsed record when it was new (not a duplicate) and well-formed.
  std::optional<parsed_record> add(std::string_view text);
  /// Adds every newline-separated record of `text` (a NATS message may carry several).
  std::size_t add_lines(std::string_view text);

  /// By "name boot_id".
  const std::map<std::string, host_ledger>& hosts() const { return hosts_; }
  std::uint64_t malformed() const { return malformed_; }

 private:
  std::map<std::string, host_ledger> hosts_;
  std::uint64_t malformed_ = 0;
};

}  // namespace ebpfpub::sinks
