#pragma once
// Running the command ebpftracer traces (`ebpftracer -t ... -- CMD ARGS`).

#include <string>
#include <vector>

#include <sys/types.h>

namespace ebpftracer {

/// A command started stopped at the door: forked, waiting to exec until released, so
/// tracing can begin before its first system call.
class command {
 public:
  /// Forks; the child waits. Makes this process a subreaper, so every descendant that is
  /// orphaned comes back to it and wait_all() sees them all end.
  static command start(const std::vector<std::string>& argv, std::string& error);
  command() = default;
  command(command&& other) noexcept;
  command& operator=(command&& other) noexcept;
  ~command();

  pid_t pid() const { return pid_; }
  /// Lets the child exec; returns why exec failed (strerror), or empty.
  std::string release();
  /// Reaps every child that has ended; true once the command and all its descendants
  /// are gone. The command's status is then in status().
  bool reap();
  /// The exit status to hand on: the command's exit code, or 128 + its signal.
  int status() const { return status_; }
  /// Sends `signal` to the command.
  void signal(int signal) const;

 private:
  pid_t pid_ = -1;
  int go_ = -1;
  int failed_ = -1;
  int status_ = 0;
  bool command_done_ = false;
};

}  // namespace ebpftracer
