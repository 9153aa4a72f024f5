#pragma once
// A child process that makes known system calls when told to, for integration tests.

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <random>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

namespace ebpfpub::test {

/// Forks; the child blocks until go(), then runs `body` and _exits with its result.
class child_process {
 public:
  explicit child_process(std::function<int()> body) {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::close(fds[1]);
      char byte = 0;
      if (::read(fds[0], &byte, 1) != 1) ::_exit(120);
      ::_exit(body());
    }
    ::close(fds[0]);
    go_ = fds[1];
  }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  ~child_process() {
    if (go_ >= 0) ::close(go_);
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  pid_t pid() const { return pid_; }
  void go() {
    const char byte = 1;
    if (::write(go_, &byte, 1) != 1) throw std::runtime_error("cannot start the child");
    ::close(go_);
    go_ = -1;
  }
  /// The child's exit status (or 128 + signal).
  int wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  int go_ = -1;
  bool reaped_ = false;
};

/// A random name: letters and digits, so tests never collide with each other or the machine.
inline std::string random_name(std::size_t length = 12) {
  static std::mt19937_64 generator{std::random_device{}()};
  static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string name;
  for (std::size_t i = 0; i < length; ++i) name += alphabet[generator() % (sizeof(alphabet) - 1)];
  return name;
}

/// A fresh directory that every user may write to, removed at the end of the test.
struct scratch_dir {
  std::filesystem::path path;
  scratch_dir() {
    path = std::filesystem::temp_directory_path() / ("ebpfpub-" + random_name());
    std::filesystem::create_directory(path);
    std::filesystem::permissions(path, std::filesystem::perms::all);
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace ebpfpub::test
