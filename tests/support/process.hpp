#pragma once
// Runs a program with its output captured, for tests of the command-line tools.

#include <algorithm>
#include <chrono>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace ebpfpub::test {

class program_run {
 public:
  /// Starts `argv`; with `as_user`, drops to that uid/gid first.
  explicit program_run(std::vector<std::string> argv, int as_user = -1) {
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      ::dup2(err[1], 2);
      if (as_user >= 0 && (::setresgid(as_user, as_user, as_user) != 0 ||
                           ::setresuid(as_user, as_user, as_user) != 0))
        ::_exit(125);
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(126);
    }
    ::close(out[1]);
    ::close(err[1]);
    out_ = out[0];
    err_ = err[0];
  }
  ~program_run() {
    if (!reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(out_);
    ::close(err_);
  }

  /// Reads output until `text` appears in stdout or `timeout` passes; true if it did.
  bool wait_for(const std::string& text, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (stdout_.find(text) == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      if (!read_some(static_cast<int>(left.count()))) return stdout_.find(text) != std::string::npos;
    }
    return true;
  }

  void signal(int sig) { ::kill(pid_, sig); }
  pid_t pid() const { return pid_; }

  /// Reads at most `bytes` at a time with a pause after each read, so the pipe stays
  /// full and its writers contend for it (where a line cut between two writes shows).
  void read_slowly(std::size_t bytes, std::chrono::microseconds pause) {
    read_size_ = bytes;
    pause_ = pause;
  }

  /// Reads everything until the program exits; returns its exit status.
  int finish() {
    while (read_some(-1)) {
    }
    int status = 0;
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  const std::string& out() const { return stdout_; }
  const std::string& err() const { return stderr_; }

 private:
  // Reads what is available from stdout and stderr; false once both are closed.
  bool read_some(int timeout_ms) {
    pollfd fds[2] = {{out_open_ ? out_ : -1, POLLIN, 0}, {err_open_ ? err_ : -1, POLLIN, 0}};
    if (!out_open_ && !err_open_) return false;
    if (::poll(fds, 2, timeout_ms) <= 0) return out_open_ || err_open_;
    char buffer[65536];
    for (int i = 0; i < 2; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP))) continue;
      const auto n = ::read(fds[i].fd, buffer, std::min(sizeof(buffer), read_size_));
      if (pause_.count() > 0) std::this_thread::sleep_for(pause_);
      if (n <= 0) (i == 0 ? out_open_ : err_open_) = false;
      else (i == 0 ? stdout_ : stderr_).append(buffer, static_cast<std::size_t>(n));
    }
    return out_open_ || err_open_;
  }

  pid_t pid_ = -1;
  int out_ = -1, err_ = -1;
  bool out_open_ = true, err_open_ = true, reaped_ = false;
  std::size_t read_size_ = 65536;
  std::chrono::microseconds pause_{0};
  std::string stdout_, stderr_;
};

}  // namespace ebpfpub::test
