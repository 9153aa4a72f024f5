// The sinks' side of the benchmarks (benchmarks/sinks runs it):
//
//   sink_bench publish URL EVENTS      EVENTS event records from a stream into URL, as fast
//                                      as the sink takes them, until every one is delivered
//                                      (acknowledged); prints events/s of wall and CPU time
//   sink_bench publish kafka-mock EVENTS   the same into librdkafka's mock cluster, hosted
//                                      in this process (its broker threads share the CPU)
//   sink_bench trace URL CALLS RATE [POLL_MS]   a child makes CALLS getppid calls at RATE
//                                      per second, traced (tracer polled every POLL_MS, 10)
//                                      and published to URL (for end-to-end latency, read by
//                                      fleet_consumer --latency)
#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ebpfpub/ebpfpub.hpp>
#include <ebpfpub/sinks/stream.hpp>
#include <string>
#include <thread>

namespace {

double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::uint64_t monotonic_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

int fail(const ebpfpub::error& e) {
  fmt::print(stderr, "sink_bench: {}\n", e.what());
  return 1;
}

int publish(std::string url, std::uint64_t events) {
  rd_kafka_t* host = nullptr;
  rd_kafka_mock_cluster_t* mock = nullptr;
  const std::string topic = "bench";
  if (url == "kafka-mock") {
    char err[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "4", err, sizeof err);
    host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    mock = rd_kafka_mock_cluster_new(host, 1);
    rd_kafka_mock_topic_create(mock, topic.c_str(), 1, 1);
    url = fmt::format("kafka://{}/{}", rd_kafka_mock_cluster_bootstraps(mock), topic);
  }
  int status = 0;
  {
    auto s = ebpfpub::sinks::stream::create({.host_name = "bench"});
    if (!s) return fail(s.error());
    ebpfpub::sinks::sink_options options;
    options.queue_records = events;  // measures throughput, not the queue's limit
    if (auto ok = s->add_sink(url, options); !ok) return fail(ok.error());
    // An event the size of a typical openat event in the library's JSON (~180 bytes).
    const double cpu0 = cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    for (std::uint64_t i = 0; i < events; ++i) {
      s->publish([&](std::string& out) {
        fmt::format_to(
            std::back_inserter(out),
            R"({{"timestamp":{},"process_id":4242,"thread_id":4242,"user_id":0,"group_id":0,)"
            R"("syscall":"openat","exit_code":3,"probe_error":false,)"
            R"("args":{{"dfd":-100,"filename":"/usr/lib/x86_64-linux-gnu/libc.so.6","flags":524288,"mode":0}}}})",
            monotonic_ns());
      });
    }
    const auto published = std::chrono::steady_clock::now();
    if (auto ok = s->flush(std::chrono::seconds(120)); !ok) return fail(ok.error());
    const auto t1 = std::chrono::steady_clock::now();
    const double cpu = cpu_seconds() - cpu0;
    const double wall = std::chrono::duration<double>(t1 - t0).count();
    const auto st = s->sink_stats().at(0).second;
    fmt::print(
        "events {} wall_s {:.3f} publish_s {:.3f} cpu_s {:.3f} events_per_s {:.0f} "
        "events_per_cpu_s {:.0f} "
        "delivered {} retried {} dropped {}\n",
        events, wall, std::chrono::duration<double>(published - t0).count(), cpu, events / wall,
        events / cpu, st.delivered, st.retried, st.dropped);
    status = st.delivered == events && st.dropped == 0 ? 0 : 1;
  }
  if (mock != nullptr) rd_kafka_mock_cluster_destroy(mock);
  if (host != nullptr) rd_kafka_destroy(host);
  return status;
}

int trace(const std::string& url, std::uint64_t calls, std::uint64_t rate,
          std::chrono::milliseconds poll) {
  int go[2];
  if (::pipe(go) != 0) return 1;
  const pid_t child = ::fork();
  if (child == 0) {
    char byte;
    ::close(go[1]);
    if (::read(go[0], &byte, 1) != 1) ::_exit(1);
    const auto start = std::chrono::steady_clock::now();
    for (std::uint64_t i = 0; i < calls; ++i) {
      ::syscall(SYS_getppid);
      // Paced in steps of 100 calls: a steady rate, not one burst.
      if ((i + 1) % 100 == 0)
        std::this_thread::sleep_until(start +
                                      std::chrono::nanoseconds((i + 1) * 1'000'000'000ULL / rate));
    }
    ::_exit(0);
  }
  ::close(go[0]);
  ebpfpub::tracer_options options;
  options.filter.process_ids = {static_cast<std::uint32_t>(child)};
  auto tracer = ebpfpub::tracer::create(options);
  if (!tracer) return fail(tracer.error());
  auto s = ebpfpub::sinks::stream::create({.host_name = "bench-trace"});
  if (!s) return fail(s.error());
  if (auto ok = s->add_sink(url); !ok) return fail(ok.error());
  std::uint64_t published = 0;
  auto ok = tracer->trace("getppid", [&](const ebpfpub::dynamic_event& e) {
    s->publish([&](std::string& out) {
      fmt::format_to(
          std::back_inserter(out),
          R"({{"timestamp":{},"process_id":{},"thread_id":{},"syscall":"getppid","exit_code":{}}})",
          e.header.timestamp, e.header.process_id, e.header.thread_id, e.header.exit_code);
    });
    ++published;
  });
  if (!ok) return fail(ok.error());
  if (auto started = tracer->start(); !started) return fail(started.error());
  if (::write(go[1], "g", 1) != 1) return 1;
  ::close(go[1]);
  int status = 0;
  while (::waitpid(child, &status, WNOHANG) == 0) {
    (void)tracer->poll(poll);
    s->account(tracer->stats());
  }
  tracer->stop();
  (void)tracer->poll(std::chrono::milliseconds(0));
  s->account(tracer->stats());
  (void)s->flush(std::chrono::seconds(30));
  fmt::print("published {} lost_in_kernel {}\n", published, tracer->stats().lost());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "publish" && argc == 4) return publish(argv[2], std::stoull(argv[3]));
  if (mode == "trace" && (argc == 5 || argc == 6))
    return trace(argv[2], std::stoull(argv[3]), std::stoull(argv[4]),
                 std::chrono::milliseconds(argc == 6 ? std::stoull(argv[5]) : 10));
  fmt::print(stderr,
             "usage: sink_bench publish URL|kafka-mock EVENTS | trace URL CALLS RATE [POLL_MS]\n");
  return 2;
}
