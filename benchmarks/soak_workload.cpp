// The soak run's workload: for SECONDS, THREADS threads each loop over a mix of what a busy
// host does: fork and exec a short program, create, write, rename and remove a file, and a
// TCP round trip over loopback. Prints how many of each it did.
//
//   soak_workload SECONDS THREADS
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

std::atomic<long> execs{0}, files{0}, round_trips{0};

void fork_exec() {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/true", "true", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  if (pid > 0) ::waitpid(pid, nullptr, 0);
  ++execs;
}

void file_churn(const std::string& dir, int thread) {
  const auto a = dir + "/a" + std::to_string(thread), b = dir + "/b" + std::to_string(thread);
  const int fd = ::open(a.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
  if (fd >= 0) {
    (void)::write(fd, "soak", 4);
    ::close(fd);
  }
  ::rename(a.c_str(), b.c_str());
  ::unlink(b.c_str());
  ++files;
}

void tcp_round_trip(int listener, const sockaddr_in& address) {
  const int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (client < 0) return;
  if (::connect(client, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0) {
    const int server = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    char byte = 'x';
    (void)::send(client, &byte, 1, 0);
    if (server >= 0) {
      (void)::recv(server, &byte, 1, 0);
      ::close(server);
    }
    ++round_trips;
  }
  ::close(client);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: soak_workload SECONDS THREADS\n");
    return 2;
  }
  const auto seconds = std::atof(argv[1]);
  const int threads = std::atoi(argv[2]);
  char dir_template[] = "/tmp/ebpfpub-soak-XXXXXX";
  const std::string dir = ::mkdtemp(dir_template);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      socklen_t length = sizeof(address);
      ::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address));
      ::listen(listener, 16);
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
      while (std::chrono::steady_clock::now() < deadline) {
        fork_exec();
        for (int i = 0; i < 10; ++i) file_churn(dir, t);
        for (int i = 0; i < 10; ++i) tcp_round_trip(listener, address);
      }
      ::close(listener);
    });
  for (auto& w : workers) w.join();
  ::rmdir(dir.c_str());
  std::printf("execs %ld files %ld round_trips %ld\n", execs.load(), files.load(), round_trips.load());
  return 0;
}
