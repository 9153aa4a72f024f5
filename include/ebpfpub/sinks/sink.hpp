#pragma once
/// \file
/// Sinks: where a stream's records go (a file, NATS JetStream, Kafka), chosen by a URL.
///
///     auto s = ebpfpub::sinks::sink::open("nats://127.0.0.1:4222/ebpfpub.events");
///     stream.add_sink(std::move(*s));
///
/// A sink never blocks its caller: offer() puts the record in a bounded queue that the
/// sink's own thread drains; a record that does not fit is counted and reported later in
/// the same sink's stream as a gap record (docs/sinks.md).

#include <chrono>
#include <cstdint>
#include <ebpfpub/error.hpp>
#include <memory>
#include <string>
#include <string_view>

namespace ebpfpub::sinks {

/// One record of a stream: a whole JSON object, without its newline.
struct outgoing_record {
  std::uint64_t seq = 0;
  /// Traced calls this record accounts for: 1 for an event, the count of a gap record.
  std::uint64_t events = 1;
  std::string json;
  /// A sink's own gap record: the first seq and the number of records it replaces (0: an
  /// event or a kernel gap, which replace nothing). A gap record that is lost in turn is
  /// replaced by one over the same range, so the consumer can still tell which of those
  /// records arrived after all.
  std::uint64_t replaces_from = 0;
  std::uint64_t replaces = 0;
};

/// What a sink did with the records offered to it.
struct sink_statistics {
  std::uint64_t offered = 0;         ///< records offered (events and gap records of the stream)
  std::uint64_t delivered = 0;       ///< records written (file) or acknowledged by the broker
  std::uint64_t retried = 0;         ///< sends repeated after a failure or a full client buffer
  std::uint64_t dropped = 0;         ///< records lost here (queue full, delivery given up)
  std::uint64_t dropped_events = 0;  ///< traced calls those records accounted for
  std::uint64_t gap_records = 0;     ///< sink-side gap records this sink added to its stream
  /// Gap records lost in turn. Each is sent again over the same records, after a back-off
  /// (0.1 s doubling to 5 s while they keep failing); its calls stay counted once, in
  /// dropped_events, and it is not counted in dropped.
  std::uint64_t gap_records_lost = 0;
};

/// Settings every sink shares; a URL's query may override them (`?queue=65536`).
struct sink_options {
  /// Records the queue holds before it drops (a gap record then says how many).
  std::size_t queue_records = 65536;
  /// Deliveries a broker sink tries before it gives a record up (NATS acks; Kafka's
  /// `message.send.max.retries` is set from it too).
  unsigned retries = 10;
  /// How long a broker sink waits for an acknowledgement before it retries.
  std::chrono::milliseconds ack_timeout{2000};
};

namespace detail {
class transport;
class sink_queue;
}  // namespace detail

/// The host a stream speaks for; stamped on every record.
struct host_identity {
  std::string name;     ///< the host name (uname), or an override
  std::string boot_id;  ///< /proc/sys/kernel/random/boot_id: changes at every boot
  /// This machine's name and boot id.
  static expected<host_identity> local();
};

class sink {
 public:
  /// Opens a sink from a URL:
  ///  - `file:///var/log/ebpfpub.jsonl[?rotate_bytes=N][&rotate_seconds=N][&keep=N]`
  ///  - `nats://host:port/subject[?stream=NAME]` (JetStream; the stream is created when
  ///    no stream takes the subject)
  ///  - `kafka://host:port[,host:port]/topic[?<librdkafka property>=<value>]`
  /// Common query keys: `queue` (records), `retries`, `ack_timeout_ms`.
  static expected<std::unique_ptr<sink>> open(std::string_view url, sink_options options = {});

  ~sink();
  sink(const sink&) = delete;
  sink& operator=(const sink&) = delete;

  /// Says which host the records are from (the stream calls it before the first offer);
  /// the sink needs it for its own gap records and, for Kafka, as the message key.
  void bind(const host_identity& host, std::string host_json);

  /// Queues a record; never blocks. False when the queue was full: the record is
  /// counted as dropped and a gap record will say so.
  bool offer(outgoing_record record);

  /// Waits until every queued record was delivered or given up, or `timeout` passed.
  expected<void> flush(std::chrono::milliseconds timeout);

  /// Reopens the output (file: a new file at the same path, after logrotate moved the
  /// old one; call it when SIGHUP arrives). Other sinks ignore it.
  void reopen();

  sink_statistics stats() const;
  /// The URL the sink was opened with.
  const std::string& url() const;

  /// For the implementations (src/sinks): a sink around a transport.
  sink(std::string url, sink_options options, std::unique_ptr<detail::transport> transport);

 private:
  std::unique_ptr<detail::sink_queue> queue_;
};

}  // namespace ebpfpub::sinks
