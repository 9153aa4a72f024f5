// fleet_consumer: reads a stream that many hosts publish to (a NATS JetStream subject, a
// Kafka topic, or a file a file sink wrote) and says, per host, what arrived, what the
// gap records account for, what came twice, and whether every sequence number is
// accounted for. Exit status: 0 every host complete, 1 some host is not (or none came),
// 2 the stream could not be read.
//
//   fleet_consumer nats://127.0.0.1:4222/ebpfpub.events
//   fleet_consumer kafka://10.0.0.5:9092,10.0.0.6:9092/ebpfpub --json

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <ebpfpub/sinks/ledger.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "reader.hpp"

namespace {

std::uint64_t monotonic_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

std::uint64_t percentile(std::vector<std::uint64_t>& v, double p) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

std::string read_file(const std::string& path, const fleet_consumer::on_payload& handle) {
  std::ifstream in(path);
  if (!in) return fmt::format("cannot open {}", path);
  std::string line;
  while (std::getline(in, line)) handle(line);
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Reads a stream many hosts publish to and checks, per host, that nothing is missing"};
  std::string url;
  bool as_json = false;
  bool latency = false;
  std::int64_t idle_ms = 2000, timeout_ms = 30000;
  std::uint64_t stop_after = 0;
  app.add_option("url", url,
                 "nats://host:port/subject, kafka://host:port[,host:port]/topic or file:///path")
      ->required();
  app.add_option("--idle-ms", idle_ms, "stop after this long without a record")
      ->capture_default_str();
  app.add_option("--timeout-ms", timeout_ms, "stop after this long in all")->capture_default_str();
  app.add_option("--stop-after", stop_after, "stop once this many records arrived");
  app.add_flag("--json", as_json, "one JSON object per host instead of text");
  app.add_flag("--latency", latency,
               "report p50/p99 from the event's kernel timestamp to receipt (same machine only: "
               "CLOCK_MONOTONIC)");
  CLI11_PARSE(app, argc, argv);

  ebpfpub::sinks::ledger book;
  std::map<std::string, std::vector<std::uint64_t>> delays;  // by host
  const fleet_consumer::on_payload handle = [&](std::string_view payload) {
    const std::uint64_t now = latency ? monotonic_ns() : 0;
    std::size_t n = 0;
    while (!payload.empty()) {
      const auto nl = payload.find('\n');
      const auto line = payload.substr(0, nl);
      if (!line.empty()) {
        ++n;
        auto r = book.add(line);
        if (latency && r && !r->is_gap && now >= r->timestamp)
          delays[r->host_name + " " + r->boot_id].push_back(now - r->timestamp);
      }
      if (nl == std::string_view::npos) break;
      payload.remove_prefix(nl + 1);
    }
    return n;
  };

  const fleet_consumer::read_options options{std::chrono::milliseconds(idle_ms),
                                             std::chrono::milliseconds(timeout_ms), stop_after};
  std::string failure;
  const auto scheme_end = url.find("://");
  const auto slash =
      scheme_end == std::string::npos ? std::string::npos : url.find('/', scheme_end + 3);
  if (slash == std::string::npos) {
    failure = "expected nats://host:port/subject, kafka://brokers/topic or file:///path";
  } else {
    const std::string scheme = url.substr(0, scheme_end);
    const std::string authority = url.substr(scheme_end + 3, slash - scheme_end - 3);
    const std::string path = url.substr(slash + 1);
    if (scheme == "nats")
      failure = fleet_consumer::read_nats(authority, path, options, handle);
    else if (scheme == "kafka")
      failure = fleet_consumer::read_kafka(authority, path, options, handle);
    else if (scheme == "file")
      failure = read_file("/" + path, handle);
    else
      failure = fmt::format("unknown scheme {}", scheme);
  }
  if (!failure.empty()) {
    fmt::print(stderr, "fleet_consumer: {}: {}\n", url, failure);
    return 2;
  }

  bool all_complete = !book.hosts().empty();
  for (const auto& [key, h] : book.hosts()) {
    const auto holes = h.missing(0);
    all_complete = all_complete && holes.empty();
    const auto space = key.find(' ');
    const std::string name = key.substr(0, space), boot = key.substr(space + 1);
    auto& d = delays[key];
    const auto p50 = percentile(d, 0.50), p99 = percentile(d, 0.99);
    if (as_json) {
      nlohmann::json j = {{"host", name},
                          {"boot_id", boot},
                          {"events", h.events},
                          {"gap_records", h.gap_records},
                          {"gap_count", h.gap_count},
                          {"gaps", h.gaps_by_reason},
                          {"duplicates", h.duplicates},
                          {"first_seq", h.first_seq},
                          {"last_seq", h.last_seq},
                          {"complete", holes.empty()},
                          {"missing", holes},
                          {"events_by_syscall", h.events_by_syscall}};
      if (latency) j["latency_ns"] = {{"p50", p50}, {"p99", p99}, {"samples", d.size()}};
      fmt::print("{}\n", j.dump());
      continue;
    }
    fmt::print(
        "host {} (boot {}): {} events, {} lost in {} gap records, {} duplicates dropped, "
        "seq {}..{}: {}\n",
        name, boot, h.events, h.gap_count, h.gap_records, h.duplicates, h.first_seq, h.last_seq,
        holes.empty() ? "complete" : "INCOMPLETE");
    for (const auto& [reason, count] : h.gaps_by_reason)
      fmt::print("  lost {}: {}\n", reason, count);
    for (const auto& [first, last] : holes) fmt::print("  missing seq {}..{}\n", first, last);
    if (latency)
      fmt::print("  latency p50 {} us, p99 {} us ({} events)\n", p50 / 1000, p99 / 1000, d.size());
  }
  if (book.malformed() > 0)
    fmt::print(stderr, "fleet_consumer: {} malformed records ignored\n", book.malformed());
  if (book.hosts().empty()) fmt::print(stderr, "fleet_consumer: no records in {}\n", url);
  return all_complete ? 0 : 1;
}
