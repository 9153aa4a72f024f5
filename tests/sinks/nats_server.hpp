#pragma once
// A real nats-server with JetStream for one test: on 127.0.0.1, a free port, a temporary
// store directory; started, killed and restarted by the test itself.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>

#include "support/child.hpp"

namespace ebpfpub::test {

/// A TCP port nothing listens on now (the kernel's pick for an ephemeral bind).
inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("free_port: cannot bind 127.0.0.1:0");
  const int port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

inline bool port_open(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

/// nats-server, as scripts/setup installs it (Debian puts it in /usr/sbin).
inline std::string nats_server_path() {
  for (const char* p :
       {"/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"})
    if (::access(p, X_OK) == 0) return p;
  throw std::runtime_error(
      "nats-server is not installed: run scripts/setup (Debian package nats-server)");
}

class nats_server {
 public:
  nats_server() : port_(free_port()) { start(); }
  ~nats_server() { stop(SIGTERM); }
  nats_server(const nats_server&) = delete;
  nats_server& operator=(const nats_server&) = delete;

  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  void start() {
    const std::string exe = nats_server_path(), port = std::to_string(port_);
    const std::string store = store_.path.string(), log = (store_.path / "server.log").string();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::execl(exe.c_str(), exe.c_str(), "-js", "-a", "127.0.0.1", "-p", port.c_str(), "-sd",
              store.c_str(), "-l", log.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!port_open(port_)) {
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("nats-server did not start");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  /// SIGKILL: a crash, not a shutdown.
  void stop(int signal = SIGKILL) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  int port_;
  scratch_dir store_;
  pid_t pid_ = -1;
};

}  // namespace ebpfpub::test
