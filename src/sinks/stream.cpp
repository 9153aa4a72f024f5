// The stream: host stamp, sequence numbers, and kernel-side losses as gap records.

#include <fmt/format.h>
#include <sys/utsname.h>

#include <cerrno>
#include <ebpfpub/sinks/stream.hpp>
#include <fstream>

#include "sinks/transport.hpp"

namespace ebpfpub::sinks {

std::string json_quote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20 || u >= 0x80)
          out += fmt::format("\\u{:04x}", u);  // names are ASCII
        else
          out += c;
    }
  }
  out += '"';
  return out;
}

expected<host_identity> host_identity::local() {
  utsname u{};
  if (::uname(&u) != 0) return error::from_errno(errno, "reading the host name (uname)");
  host_identity host{u.nodename, {}};
  const char* path = "/proc/sys/kernel/random/boot_id";
  std::ifstream in(path);
  if (!(in >> host.boot_id) || host.boot_id.empty())
    return error(errc::not_found,
                 fmt::format("reading the boot id from {}: the file is missing "
                             "or empty; mount /proc, or set stream_options.boot_id",
                             path));
  return host;
}

expected<stream> stream::create(stream_options options) {
  host_identity host;
  if (!options.host_name || !options.boot_id) {
    auto local = host_identity::local();
    if (!local) return local.error();
    host = std::move(*local);
  }
  if (options.host_name) host.name = *options.host_name;
  if (options.boot_id) host.boot_id = *options.boot_id;
  if (host.name.empty())
    return error(errc::invalid_argument,
                 "stream: the host name is empty; set stream_options.host_name");
  return stream(std::move(host), options.first_seq);
}

stream::stream(host_identity host, std::uint64_t first_seq)
    : host_(std::move(host)),
      host_json_(fmt::format(R"({{"name":{},"boot_id":{}}})", json_quote(host_.name),
                             json_quote(host_.boot_id))),
      next_seq_(first_seq) {
  counts_.next_seq = first_seq;
}

stream::stream(stream&&) noexcept = default;
stream& stream::operator=(stream&&) noexcept = default;
stream::~stream() = default;

expected<void> stream::add_sink(std::string_view url, sink_options options) {
  auto s = sink::open(url, options);
  if (!s) return s.error();
  add_sink(std::move(*s));
  return {};
}

void stream::add_sink(std::unique_ptr<sink> s) {
  s->bind(host_, host_json_);
  sinks_.push_back(std::move(s));
}

void stream::begin_record(std::uint64_t events) {
  pending_events_ = events;
  buffer_.clear();
  buffer_ += R"({"host":)";
  buffer_ += host_json_;
  fmt::format_to(std::back_inserter(buffer_), R"(,"seq":{},"event":)", next_seq_);
}

void stream::end_record(std::size_t) {
  buffer_ += '}';
  ++counts_.events;
  dispatch();
}

void stream::publish_gap(std::uint64_t count, std::string_view syscall, std::string_view reason) {
  pending_events_ = count;
  buffer_ = detail::gap_json(host_json_, next_seq_, next_seq_, count, 0, reason, syscall);
  ++counts_.gap_records;
  counts_.gap_events += count;
  dispatch();
}

void stream::dispatch() {
  const std::uint64_t seq = next_seq_++;
  counts_.next_seq = next_seq_;
  // Every sink but the last gets a copy; the last takes the buffer (one sink: no copy).
  for (std::size_t i = 0; i < sinks_.size(); ++i) {
    outgoing_record r{seq, pending_events_, {}};
    if (i + 1 == sinks_.size()) {
      r.json = std::move(buffer_);
      buffer_ = std::string();
      buffer_.reserve(r.json.capacity());
    } else {
      r.json = buffer_;
    }
    sinks_[i]->offer(std::move(r));
  }
}

void stream::account(const statistics& stats) {
  for (const auto& gap : losses_.update(stats)) publish_gap(gap.count, gap.syscall, gap.reason);
}

expected<void> stream::flush(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (auto& s : sinks_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto ok = s->flush(std::max(left, std::chrono::milliseconds(0)));
    if (!ok) return ok;
  }
  return {};
}

void stream::reopen() {
  for (auto& s : sinks_) s->reopen();
}

stream_statistics stream::stats() const { return counts_; }

std::vector<std::pair<std::string, sink_statistics>> stream::sink_stats() const {
  std::vector<std::pair<std::string, sink_statistics>> out;
  for (const auto& s : sinks_) out.emplace_back(s->url(), s->stats());
  return out;
}

}  // namespace ebpfpub::sinks
