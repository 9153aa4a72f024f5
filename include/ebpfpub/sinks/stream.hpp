#pragma once
/// \file
/// A stream stamps every record with the host and a per-host sequence number, and turns
/// every loss into a gap record in the same sequence, so that a consumer on another
/// machine can check `events received + sum of gap counts == calls made` (docs/sinks.md).
///
///     auto stream = ebpfpub::sinks::stream::create();
///     stream->add_sink("nats://127.0.0.1:4222/ebpfpub.events");
///     tracer->trace("openat", [&](const ebpfpub::dynamic_event& e) {
///       stream->publish([&](std::string& out) { out += my_json(e); });
///     });
///     while (running) { tracer->poll(100ms); stream->account(tracer->stats()); }
///     stream->flush(5s);

#include <chrono>
#include <cstdint>
#include <ebpfpub/error.hpp>
#include <ebpfpub/sinks/sink.hpp>
#include <ebpfpub/losses.hpp>
#include <ebpfpub/tracer.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ebpfpub::sinks {

struct stream_options {
  /// Overrides the host name stamped on records (two tracers on one machine that must
  /// look like two hosts; containers whose uname is not the host's).
  std::optional<std::string> host_name;
  /// Overrides the boot id (tests).
  std::optional<std::string> boot_id;
  /// The first sequence number; a consumer expects every number from here on.
  std::uint64_t first_seq = 0;
};

/// Counts of a stream, for the closing summary.
struct stream_statistics {
  std::uint64_t events = 0;       ///< event records published
  std::uint64_t gap_records = 0;  ///< kernel-side gap records published
  std::uint64_t gap_events = 0;   ///< calls those gap records account for
  std::uint64_t next_seq = 0;
};

class stream {
 public:
  static expected<stream> create(stream_options options = {});

  stream(stream&&) noexcept;
  stream& operator=(stream&&) noexcept;
  ~stream();

  /// Opens a sink by URL (sink::open) and sends every later record to it too.
  expected<void> add_sink(std::string_view url, sink_options options = {});
  void add_sink(std::unique_ptr<sink> s);

  /// Publishes one event: `write_event(std::string& out)` appends the event's JSON object
  /// (the library's JSON writer, or the user's) to `out`.
  template <typename F>
  void publish(F&& write_event) {
    begin_record(1);
    const std::size_t start = buffer_.size();
    std::forward<F>(write_event)(buffer_);
    end_record(start);
  }
  /// Publishes one event whose JSON object is already written.
  void publish_json(std::string_view event_json) {
    publish([event_json](std::string& out) { out += event_json; });
  }

  /// Compares the tracer's counters with those seen at the last call and publishes one
  /// gap record per (syscall, reason) whose loss counter grew. Call it after each poll().
  void account(const statistics& stats);

  /// Waits for every sink to deliver what it holds, up to `timeout` in all.
  expected<void> flush(std::chrono::milliseconds timeout);
  /// Reopens every sink's output (SIGHUP).
  void reopen();

  const host_identity& host() const { return host_; }
  stream_statistics stats() const;
  /// Each sink's URL and counters.
  std::vector<std::pair<std::string, sink_statistics>> sink_stats() const;

 private:
  stream(host_identity host, std::uint64_t first_seq);
  void begin_record(std::uint64_t events);
  void end_record(std::size_t event_start);
  void publish_gap(std::uint64_t count, std::string_view syscall, std::string_view reason);
  void dispatch();

  host_identity host_;
  std::string host_json_;  // {"name":..,"boot_id":..}
  std::uint64_t next_seq_ = 0;
  std::uint64_t pending_events_ = 0;
  std::string buffer_;
  std::vector<std::unique_ptr<sink>> sinks_;
  stream_statistics counts_;
  // Loss counters already turned into gap records: (syscall, reason) -> count.
  loss_tracker losses_;  // what account() has turned into gap records so far
};

/// The JSON text of a string (quoted, escaped), as the records carry it.
std::string json_quote(std::string_view text);

}  // namespace ebpfpub::sinks
