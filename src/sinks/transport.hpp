#pragma once
// What a sink's thread drives: a transport takes batches of whole records and reports,
// possibly from a client library's own thread, what became of them.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <ebpfpub/sinks/sink.hpp>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ebpfpub::sinks::detail {

/// What a record given up stood for: the seqs a gap for it must cover ([first, last]; one
/// seq for an event, the whole range for a sink gap record), the calls and the records.
struct lost_span {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::uint64_t events = 0;
  std::uint64_t records = 1;
  bool gap = false;  ///< a sink's own gap record
  static lost_span of(const outgoing_record& r) {
    if (r.replaces == 0) return {r.seq, r.seq, r.events, 1, false};
    return {r.replaces_from, r.seq, r.events, r.replaces, true};
  }
};

/// Where a transport reports; every call is thread-safe.
class delivery_log {
 public:
  virtual ~delivery_log() = default;
  virtual void delivered(std::uint64_t records) = 0;
  virtual void retried(std::uint64_t sends) = 0;
  /// A record given up: the sink puts a gap record for it in its stream.
  virtual void lost(const lost_span& span, std::string_view reason) = 0;
  /// Something changed that the sink's thread or a flush() waits for.
  virtual void wake() = 0;
};

class transport {
 public:
  virtual ~transport() = default;
  void set_log(delivery_log* log) { log_ = log; }
  /// The host the records speak for (Kafka keys by it).
  virtual void bind(const host_identity&) {}
  /// Takes records in sequence order, on the sink's thread. It may wait for room in the
  /// client (never the reader's thread); `stopping` says to give up instead.
  virtual void send(std::vector<outgoing_record>& batch, const std::atomic<bool>& stopping) = 0;
  /// Called on the sink's thread between batches and at least every 20 ms while
  /// pending() is not zero: resends, client polling, a requested reopen.
  virtual void service() {}
  /// Records handed to the client and not yet acknowledged or given up.
  virtual std::size_t pending() const { return 0; }
  /// Asks for a reopen of the output at the next service() (file sink).
  virtual void request_reopen() {}
  /// Gives up every pending record (the sink is closing and flush ran out of time).
  virtual void abandon() {}

 protected:
  delivery_log* log_ = nullptr;
};

/// scheme://authority/path?query, split; query values are kept as text.
struct url_parts {
  std::string scheme;
  std::string authority;
  std::string path;  // without the leading '/'
  std::map<std::string, std::string> query;
};
expected<url_parts> parse_url(std::string_view url);
/// A query value as an unsigned number, or an error naming the URL and the key.
expected<std::uint64_t> query_number(const url_parts& u, std::string_view key,
                                     std::uint64_t fallback, std::string_view url);

expected<std::unique_ptr<transport>> open_file(const url_parts& u, std::string_view url,
                                               const sink_options& options);
expected<std::unique_ptr<transport>> open_nats(const url_parts& u, std::string_view url,
                                               const sink_options& options);
expected<std::unique_ptr<transport>> open_kafka(const url_parts& u, std::string_view url,
                                                const sink_options& options);

/// The gap record a sink adds for records it lost: it takes the seq of the last record
/// it replaces and names the first.
std::string gap_json(std::string_view host_json, std::uint64_t first_seq, std::uint64_t last_seq,
                     std::uint64_t events, std::uint64_t records, std::string_view reason,
                     std::string_view syscall = {});

}  // namespace ebpfpub::sinks::detail
