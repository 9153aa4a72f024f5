// The part every sink shares: a bounded queue the reader never waits on, a thread that
// drains it into the transport, and the gap records that account for what was lost.

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <ebpfpub/sinks/sink.hpp>
#include <ebpfpub/sinks/stream.hpp>
#include <mutex>
#include <thread>

#include "sinks/transport.hpp"

namespace ebpfpub::sinks {
namespace detail {

namespace {

// Records lost back to back for one reason become one gap record.
struct pending_gap {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::uint64_t events = 0;
  std::uint64_t records = 0;
  std::string reason;
  bool resent = false;  // holds a gap record that was lost: wait for the back-off
};

constexpr std::chrono::milliseconds first_backoff{100}, last_backoff{5000};

}  // namespace

class sink_queue final : public delivery_log {
 public:
  sink_queue(std::string url, sink_options options, std::unique_ptr<transport> t)
      : url_(std::move(url)), options_(options), transport_(std::move(t)) {
    transport_->set_log(this);
    thread_ = std::thread([this] { run(); });
  }

  ~sink_queue() override {
    // Whatever the broker still holds gets a bounded time; then it is given up, so a
    // dead broker cannot hold the process at exit.
    (void)flush(options_.ack_timeout * 2);
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
    transport_->abandon();
    transport_.reset();
  }

  void bind(const host_identity& host, std::string host_json) {
    std::lock_guard lock(mutex_);
    host_json_ = std::move(host_json);
    transport_->bind(host);
  }

  bool offer(outgoing_record r) {
    std::unique_lock lock(mutex_);
    ++stats_.offered;
    if (stopping_ || queue_.size() >= options_.queue_records) {
      note_loss(lost_span::of(r), "sink_queue_full");
      return false;
    }
    const bool was_empty = queue_.empty();
    queue_.push_back(std::move(r));
    lock.unlock();
    // The thread sleeps only on an empty queue: wake it once per batch, not per record.
    if (was_empty) wake_.notify_one();
    return true;
  }

  expected<void> flush(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock lock(mutex_);
    const bool done = idle_.wait_until(lock, deadline, [this] {
      return queue_.empty() && gaps_.empty() && !busy_ && transport_->pending() == 0;
    });
    if (done) return {};
    return error(errc::exhausted,
                 fmt::format("sink {}: {} records queued and {} unacknowledged after {} ms; the "
                             "destination is slow or unreachable",
                             url_, queue_.size(), transport_->pending(), timeout.count()));
  }

  void reopen() {
    transport_->request_reopen();
    wake_.notify_one();
  }

  sink_statistics stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
  }

  const std::string& url() const { return url_; }

  // delivery_log
  void delivered(std::uint64_t records) override {
    std::lock_guard lock(mutex_);
    stats_.delivered += records;
    backoff_ = std::chrono::milliseconds(0);  // the destination takes records again
  }
  void retried(std::uint64_t sends) override {
    std::lock_guard lock(mutex_);
    stats_.retried += sends;
  }
  void lost(const lost_span& span, std::string_view reason) override {
    {
      std::lock_guard lock(mutex_);
      note_loss(span, reason);
    }
    wake_.notify_one();
  }
  void wake() override {
    wake_.notify_one();
    idle_.notify_all();
  }

 private:
  // Holds mutex_.
  // A lost gap record comes back with the range it replaced, not just its own seq: a gap
  // over its seq alone would count every call of the range while the records of the
  // range that a broker stored after all ("possibly persisted" when its acknowledgement
  // timed out) arrive outside it, and the consumer would count them twice.
  // A lost gap record's calls were counted when its records were dropped; and while the
  // destination keeps refusing, resending it at once would spin: it waits for a back-off.
  void note_loss(const lost_span& span, std::string_view reason) {
    if (span.gap) {
      ++stats_.gap_records_lost;
      backoff_ = std::clamp(backoff_ * 2, first_backoff, last_backoff);
      resend_after_ = std::chrono::steady_clock::now() + backoff_;
    } else {
      ++stats_.dropped;
      stats_.dropped_events += span.events;
    }
    if (!gaps_.empty() && gaps_.back().reason == reason && gaps_.back().last + 1 == span.first) {
      auto& g = gaps_.back();
      g.last = span.last;
      g.events += span.events;
      g.records += span.records;
      g.resent = g.resent || span.gap;
      return;
    }
    gaps_.push_back({span.first, span.last, span.events, span.records, std::string(reason), span.gap});
  }

  // Holds mutex_. Whether the pending gap records wait for the back-off.
  bool gaps_held() const {
    if (stopping_ || std::chrono::steady_clock::now() >= resend_after_) return false;
    return std::any_of(gaps_.begin(), gaps_.end(), [](const pending_gap& g) { return g.resent; });
  }

  void run() {
    std::vector<outgoing_record> batch;
    std::unique_lock lock(mutex_);
    bool last_round_done = false;
    for (;;) {
      const bool stop = stopping_;
      // Closing: one more round for what is queued. A destination that fails then would
      // only turn each gap record into another, so what it loses stays in the counters.
      if (stop && last_round_done) break;
      const bool send_gaps = !gaps_.empty() && !gaps_held();
      if (queue_.empty() && !send_gaps) {
        if (stop && gaps_.empty()) break;
        busy_ = true;
        lock.unlock();
        transport_->service();
        lock.lock();
        busy_ = false;
        idle_.notify_all();
        if (!queue_.empty() || !gaps_.empty() || stopping_) continue;
        // While the broker owes acknowledgements, come back soon to resend what failed;
        // held gap records at the end of their back-off.
        if (!gaps_.empty()) {
          wake_.wait_until(lock, std::min(resend_after_, std::chrono::steady_clock::now() +
                                                             std::chrono::milliseconds(500)));
          continue;
        }
        const auto wait = transport_->pending() > 0 ? std::chrono::milliseconds(20)
                                                    : std::chrono::milliseconds(500);
        wake_.wait_for(lock, wait);
        continue;
      }
      batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
      queue_.clear();
      // A gap follows the records queued before the loss it reports (their seqs are
      // lower), so a reader of one file sees the stream in order.
      if (send_gaps) {
        for (const auto& g : gaps_) {
          batch.push_back({g.last, g.events,
                           gap_json(host_json_, g.first, g.last, g.events, g.records, g.reason),
                           g.first, g.records});
          ++stats_.gap_records;
        }
        gaps_.clear();
      }
      busy_ = true;
      lock.unlock();
      transport_->send(batch, stopping_);
      transport_->service();
      batch.clear();
      lock.lock();
      busy_ = false;
      idle_.notify_all();
      if (stop) last_round_done = true;
    }
  }

  const std::string url_;
  const sink_options options_;
  std::unique_ptr<transport> transport_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;  // the thread: records or losses arrived, or stop
  std::condition_variable idle_;  // flush(): the thread finished a round
  std::deque<outgoing_record> queue_;
  std::deque<pending_gap> gaps_;
  std::chrono::milliseconds backoff_{0};
  std::chrono::steady_clock::time_point resend_after_{};
  std::string host_json_ = "{}";
  sink_statistics stats_;
  bool busy_ = false;
  std::atomic<bool> stopping_ = false;
  std::thread thread_;
};

std::string gap_json(std::string_view host_json, std::uint64_t first_seq, std::uint64_t last_seq,
                     std::uint64_t events, std::uint64_t records, std::string_view reason,
                     std::string_view syscall) {
  std::string out = fmt::format(R"({{"host":{},"seq":{},"gap":{{"count":{},"reason":"{}")",
                                host_json, last_seq, events, reason);
  if (!syscall.empty()) out += fmt::format(R"(,"syscall":{})", json_quote(syscall));
  if (records > 0) out += fmt::format(R"(,"seq_first":{},"records":{})", first_seq, records);
  out += "}}";
  return out;
}

}  // namespace detail

sink::sink(std::string url, sink_options options, std::unique_ptr<detail::transport> transport)
    : queue_(std::make_unique<detail::sink_queue>(std::move(url), options, std::move(transport))) {}
sink::~sink() = default;

void sink::bind(const host_identity& host, std::string host_json) {
  queue_->bind(host, std::move(host_json));
}
bool sink::offer(outgoing_record record) { return queue_->offer(std::move(record)); }
expected<void> sink::flush(std::chrono::milliseconds timeout) { return queue_->flush(timeout); }
void sink::reopen() { queue_->reopen(); }
sink_statistics sink::stats() const { return queue_->stats(); }
const std::string& sink::url() const { return queue_->url(); }

expected<std::unique_ptr<sink>> sink::open(std::string_view url, sink_options options) {
  auto parts = detail::parse_url(url);
  if (!parts) return parts.error();
  auto queue = detail::query_number(*parts, "queue", options.queue_records, url);
  auto retries = detail::query_number(*parts, "retries", options.retries, url);
  auto ack = detail::query_number(*parts, "ack_timeout_ms",
                                  static_cast<std::uint64_t>(options.ack_timeout.count()), url);
  if (!queue) return queue.error();
  if (!retries) return retries.error();
  if (!ack) return ack.error();
  if (*queue == 0)
    return error(errc::invalid_argument,
                 fmt::format("sink {}: queue must hold at least one record", url));
  options.queue_records = *queue;
  options.retries = static_cast<unsigned>(*retries);
  options.ack_timeout = std::chrono::milliseconds(*ack);

  expected<std::unique_ptr<detail::transport>> t =
      error(errc::invalid_argument,
            fmt::format("sink {}: unknown scheme '{}'; use file://, nats:// or kafka://", url,
                        parts->scheme));
  if (parts->scheme == "file")
    t = detail::open_file(*parts, url, options);
  else if (parts->scheme == "nats")
    t = detail::open_nats(*parts, url, options);
  else if (parts->scheme == "kafka")
    t = detail::open_kafka(*parts, url, options);
  if (!t) return t.error();
  return std::make_unique<sink>(std::string(url), options, std::move(*t));
}

}  // namespace ebpfpub::sinks
