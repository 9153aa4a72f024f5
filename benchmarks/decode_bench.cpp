// How fast the reader turns records into events: checked parsing plus typed decoding,
// the dynamic view, and JSON text (the library's streaming writer, into a reused buffer,
// as ebpftracer --format json does), on openat records with a 40-byte path.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include <ebpfpub/ebpfpub.hpp>
#include <ebpfpub/record.hpp>

#include "json_reference.hpp"  // tests/unit: the nlohmann writer ebpftracer used before

namespace {

namespace sys = ebpfpub::syscalls;

std::vector<ebpfpub::plan> plans() { return {ebpfpub::serializer<sys::openat>::make_plan({})}; }

std::vector<std::uint8_t> openat_record() {
  const std::string path = "/usr/lib/x86_64-linux-gnu/libexample.so.1";
  std::vector<std::uint8_t> r(ebpfpub::record::header_size + 32 + 8 + ebpfpub::record::align8(path.size()));
  auto put = [&](std::size_t at, auto v) { std::memcpy(r.data() + at, &v, sizeof(v)); };
  namespace offset = ebpfpub::record::offset;
  put(offset::size, static_cast<std::uint32_t>(r.size()));
  put(offset::syscall, std::uint16_t{0});
  put(offset::argument_count, std::uint8_t{4});
  put(offset::timestamp, std::uint64_t{123456789});
  put(offset::process_id, std::uint32_t{100});
  put(offset::thread_id, std::uint32_t{101});
  put(offset::exit_code, std::int64_t{3});
  put(offset::duration, std::uint64_t{2150});
  put(offset::arguments, std::uint64_t{0xffffff9c});
  put(offset::arguments + 8, std::uint64_t{0x7ffd0000});
  put(offset::arguments + 16, std::uint64_t{0x80000});
  // The filename's capture (index 0, status ok) after the 4 argument slots.
  const std::size_t capture = ebpfpub::record::header_size + 32;
  put(capture, std::uint8_t{0});
  put(capture + 4, static_cast<std::uint32_t>(path.size()));
  std::memcpy(r.data() + capture + ebpfpub::record::capture_header_size, path.data(), path.size());
  return r;
}

void typed(benchmark::State& state) {
  const auto p = plans();
  const auto record = openat_record();
  for (auto _ : state) {
    auto r = ebpfpub::record_view::parse(record, p);
    auto args = ebpfpub::serializer<sys::openat>::decode(*r);
    benchmark::DoNotOptimize(args);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(typed);

void dynamic(benchmark::State& state) {
  const auto p = plans();
  const auto record = openat_record();
  for (auto _ : state) {
    auto r = ebpfpub::record_view::parse(record, p);
    auto e = ebpfpub::decode_dynamic(*r);
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(dynamic);

void json(benchmark::State& state) {
  const auto p = plans();
  const auto record = openat_record();
  fmt::memory_buffer out;
  for (auto _ : state) {
    auto r = ebpfpub::record_view::parse(record, p);
    out.clear();
    ebpfpub::append_json(out, ebpfpub::decode_dynamic(*r));
    out.push_back('\n');
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(json);

void json_write_only(benchmark::State& state) {
  const auto p = plans();
  const auto record = openat_record();
  auto r = ebpfpub::record_view::parse(record, p);
  const auto e = ebpfpub::decode_dynamic(*r);
  fmt::memory_buffer out;
  for (auto _ : state) {
    out.clear();
    ebpfpub::append_json(out, e);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(json_write_only);

// The same line through an nlohmann document per event, as ebpftracer built it before
// the library had a writer: the figure the streaming writer replaced.
void json_nlohmann(benchmark::State& state) {
  const auto p = plans();
  const auto record = openat_record();
  for (auto _ : state) {
    auto r = ebpfpub::record_view::parse(record, p);
    auto text = ebpfpub::test::reference::format_json(ebpfpub::decode_dynamic(*r));
    benchmark::DoNotOptimize(text);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(json_nlohmann);

}  // namespace

BENCHMARK_MAIN();
