#pragma once
// Reads the output map (ring buffer or per-CPU perf buffers) and hands each record to the
// deliveries. One poll() reads at most a full buffer's worth of records, so it returns
// even while the programs write faster than the handlers run (libbpf's readers keep going
// as long as there is data).

#include <chrono>
#include <cstddef>
#include <memory>

#include <bpf/libbpf.h>

#include <ebpfpub/error.hpp>
#include <ebpfpub/resources.hpp>

#include "session/sizing.hpp"
#include "session/statistics.hpp"

struct perf_event_header;

namespace ebpfpub::detail {

class reader {
 public:
  /// Maps the output map `output_fd` for reading; records go to `to`, which must outlive
  /// the reader.
  static expected<std::unique_ptr<reader>> open(int output_fd, const resource_options& resources,
                                                const map_sizes& sizes, deliveries& to);
  ~reader();
  reader(const reader&) = delete;
  reader& operator=(const reader&) = delete;

  /// Waits up to `ms` for records, then reads what is there, up to the budget.
  expected<void> poll(int ms);

 private:
  explicit reader(deliveries& to) : to_(to) {}
  void read(std::span<const std::uint8_t> bytes);
  static int on_ring_record(void* context, void* data, std::size_t size);
  static bpf_perf_event_ret on_perf_event(void* context, int cpu, perf_event_header* header);

  deliveries& to_;
  ring_buffer* ring_ = nullptr;
  perf_buffer* perf_ = nullptr;
  std::size_t read_this_poll_ = 0;
  std::size_t budget_ = 0;
};

}  // namespace ebpfpub::detail
