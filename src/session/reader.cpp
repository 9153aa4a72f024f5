#include "session/reader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <linux/perf_event.h>

#include <ebpfpub/record.hpp>

namespace ebpfpub::detail {
namespace {

constexpr int budget_reached = -10000;  // the ring callback's "stop reading" value

}  // namespace

expected<std::unique_ptr<reader>> reader::open(int output_fd, const resource_options& res,
                                               const map_sizes& sizes, deliveries& to) {
  std::unique_ptr<reader> r(new reader(to));
  if (res.output == transport::ring) {
    r->ring_ = ring_buffer__new(output_fd, &reader::on_ring_record, r.get(), nullptr);
    if (!r->ring_) return error::from_errno(errno, "ring buffer: mapping it for reading");
  } else {
    perf_event_attr attr{};
    attr.config = PERF_COUNT_SW_BPF_OUTPUT;
    attr.type = PERF_TYPE_SOFTWARE;
    attr.sample_type = PERF_SAMPLE_RAW;
    attr.sample_period = 1;
    // Wake the reader when a quarter of the buffer is used, not per event.
    attr.watermark = 1;
    attr.wakeup_watermark = static_cast<std::uint32_t>(sizes.output_map / 4);
    r->perf_ = perf_buffer__new_raw(output_fd, std::size_t{1} << res.output_pages_log2, &attr,
                                    &reader::on_perf_event, r.get(), nullptr);
    if (!r->perf_) return error::from_errno(errno, "perf buffer: opening the per-CPU buffers");
  }
  // The smallest record is a header: a buffer holds at most this many.
  const std::uint64_t smallest = record::header_size + 8;
  r->budget_ = std::max<std::size_t>(1024, sizes.output_total / smallest);
  return r;
}

reader::~reader() {
  ring_buffer__free(ring_);
  perf_buffer__free(perf_);
}

expected<void> reader::poll(int ms) {
  read_this_poll_ = 0;
  int err = 0;
  if (ring_) {
    err = ring_buffer__poll(ring_, ms);
    // Events are sent without wakeups until enough wait: take them all after a timeout.
    if (err >= 0) err = ring_buffer__consume(ring_);
    if (err == budget_reached) err = 0;
  } else {
    err = perf_buffer__poll(perf_, ms);
    if (err >= 0 && read_this_poll_ < budget_) err = perf_buffer__consume(perf_);
  }
  if (err < 0 && err != -EINTR) return error::from_errno(-err, "reading events");
  return {};
}

void reader::read(std::span<const std::uint8_t> bytes) {
  ++read_this_poll_;
  to_.deliver(bytes);
}

int reader::on_ring_record(void* context, void* data, std::size_t size) {
  auto* self = static_cast<reader*>(context);
  self->read({static_cast<const std::uint8_t*>(data), size});
  return self->read_this_poll_ >= self->budget_ ? budget_reached : 0;
}

bpf_perf_event_ret reader::on_perf_event(void* context, int /*cpu*/, perf_event_header* header) {
  auto* self = static_cast<reader*>(context);
  if (header->type == PERF_RECORD_SAMPLE) {
    // PERF_SAMPLE_RAW: u32 size, then the bytes.
    const auto* raw = reinterpret_cast<const std::uint8_t*>(header + 1);
    std::uint32_t size = 0;
    std::memcpy(&size, raw, sizeof(size));
    if (sizeof(perf_event_header) + sizeof(size) + size <= header->size) {
      self->read({raw + sizeof(size), size});
    } else {
      self->to_.malformed_sample();
      ++self->read_this_poll_;
    }
  } else if (header->type == PERF_RECORD_LOST) {
    struct lost_record {
      perf_event_header header;
      std::uint64_t id;
      std::uint64_t lost;
    };
    lost_record lost{};
    std::memcpy(&lost, header, std::min<std::size_t>(sizeof(lost), header->size));
    // The same drops the programs counted per syscall when bpf_perf_event_output
    // failed: kept apart, never added to lost().
    self->to_.perf_lost(lost.lost);
  }
  // DONE ends this CPU's buffer for this poll without an error.
  return self->read_this_poll_ >= self->budget_ ? LIBBPF_PERF_EVENT_DONE : LIBBPF_PERF_EVENT_CONT;
}

}  // namespace ebpfpub::detail
