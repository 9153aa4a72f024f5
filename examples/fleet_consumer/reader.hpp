#pragma once
// fleet_consumer's readers: each delivers message payloads (one or more whole records,
// newline-separated) until nothing arrived for `idle` or `deadline` passed.

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

namespace fleet_consumer {

struct read_options {
  std::chrono::milliseconds idle{2000};      ///< stop after this long without a record
  std::chrono::milliseconds timeout{30000};  ///< stop after this long in all
  /// Stop as soon as this many records arrived (0: only idle/timeout stop).
  std::uint64_t stop_after = 0;
};

/// Called for each message payload; returns how many records it held.
using on_payload = std::function<std::size_t(std::string_view)>;

/// Empty on success, else what went wrong (connecting, subscribing).
std::string read_nats(const std::string& server, const std::string& subject,
                      const read_options& options, const on_payload& handle);
std::string read_kafka(const std::string& brokers, const std::string& topic,
                       const read_options& options, const on_payload& handle);

}  // namespace fleet_consumer
