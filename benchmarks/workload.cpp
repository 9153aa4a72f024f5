// The traced side of the benchmarks: one syscall in a tight loop, on one or more threads.
//
//   workload SYSCALL ITERATIONS THREADS [PATH_LENGTH]  ->  "ns_per_call <median over threads>"
//                                                         "cpu_ns_per_call <the same, in thread CPU time>"
//
// The thread's CPU time leaves out the time it waited for a CPU, so on a machine other
// work keeps busy it still measures the calls themselves (benchmarks/run: CLOCK=cpu).
//
// SYSCALL: openat (of a missing path: the path string is captured, nothing is opened;
// openat_relative: the same of a relative name, in the cwd the caller gave),
// getppid (no capture), write (64 bytes to /dev/null: a buffer capture), read (64 bytes
// from /dev/zero: a buffer capture at exit; an fd identity at enter with --fd-identity),
// read_relative (a read of an empty file ebpfpub-read it makes in the cwd the caller gave:
// a path as deep as that cwd, for filters on an fd's path), execve (of a missing program,
// with 20 arguments of 32 bytes each: the path and argv are captured at enter, the call
// fails with ENOENT before it reads them itself).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace {

std::int64_t thread_cpu_ns() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

struct cost {
  double wall = 0;
  double cpu = 0;
};

cost run(const std::string& syscall, long iterations, std::size_t path_length) {
  std::string path = "/nonexistent/ebpfpub-benchmark/path";
  if (path_length > 0) path = "/nonexistent/" + std::string(path_length > 13 ? path_length - 13 : 1, 'p');
  const char* missing = path.c_str();
  const int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  const int zero_fd = ::open("/dev/zero", O_RDONLY | O_CLOEXEC);
  const int file_fd = syscall == "read_relative" ? ::open("ebpfpub-read", O_RDWR | O_CREAT | O_CLOEXEC, 0600) : -1;
  char buffer[64] = "ebpfpub benchmark payload";
  std::vector<std::string> arguments;
  for (int i = 0; i < 20; ++i) arguments.push_back(std::string(29, static_cast<char>('a' + i)) + std::to_string(100 + i));
  std::vector<char*> argv;
  for (auto& a : arguments) argv.push_back(a.data());
  argv.push_back(nullptr);
  char* no_environment[] = {nullptr};
  const auto start = std::chrono::steady_clock::now();
  const auto cpu_start = thread_cpu_ns();
  if (syscall == "openat") {
    for (long i = 0; i < iterations; ++i) ::syscall(SYS_openat, AT_FDCWD, missing, O_RDONLY, 0);
  } else if (syscall == "openat_relative") {
    for (long i = 0; i < iterations; ++i) ::syscall(SYS_openat, AT_FDCWD, "ebpfpub-missing", O_RDONLY, 0);
  } else if (syscall == "getppid") {
    for (long i = 0; i < iterations; ++i) ::syscall(SYS_getppid);
  } else if (syscall == "write") {
    for (long i = 0; i < iterations; ++i) ::syscall(SYS_write, null_fd, buffer, sizeof(buffer));
  } else if (syscall == "read") {
    for (long i = 0; i < iterations; ++i) ::syscall(SYS_read, zero_fd, buffer, sizeof(buffer));
  } else if (syscall == "execve") {
    for (long i = 0; i < iterations; ++i) ::syscall(SYS_execve, missing, argv.data(), no_environment);
  } else if (syscall == "read_relative") {
    for (long i = 0; i < iterations; ++i) ::syscall(SYS_read, file_fd, buffer, sizeof(buffer));  // empty: 0 bytes
  } else {
    std::fprintf(stderr, "workload: unknown syscall %s\n", syscall.c_str());
    std::exit(2);
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  const auto cpu = thread_cpu_ns() - cpu_start;
  ::close(null_fd);
  ::close(zero_fd);
  if (file_fd >= 0) ::close(file_fd);
  return {std::chrono::duration<double, std::nano>(elapsed).count() / static_cast<double>(iterations),
          static_cast<double>(cpu) / static_cast<double>(iterations)};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5) {
    std::fprintf(stderr, "usage: workload openat|openat_relative|getppid|write|read|read_relative|execve ITERATIONS THREADS [PATH_LENGTH]\n");
    return 2;
  }
  const std::string syscall = argv[1];
  const long iterations = std::atol(argv[2]);
  const int threads = std::atoi(argv[3]);
  const std::size_t path_length = argc == 5 ? static_cast<std::size_t>(std::atol(argv[4])) : 0;
  std::vector<cost> results(static_cast<std::size_t>(threads));
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] { results[static_cast<std::size_t>(t)] = run(syscall, iterations, path_length); });
  for (auto& w : workers) w.join();
  std::vector<double> wall, cpu;
  for (const auto& r : results) {
    wall.push_back(r.wall);
    cpu.push_back(r.cpu);
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  std::printf("ns_per_call %.1f\n", wall[wall.size() / 2]);
  std::printf("cpu_ns_per_call %.1f\n", cpu[cpu.size() / 2]);
  return 0;
}
