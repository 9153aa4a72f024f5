#include "command.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace ebpftracer {

command command::start(const std::vector<std::string>& argv, std::string& error) {
  command c;
  if (argv.empty()) {
    error = "no command to run after --";
    return c;
  }
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  int go[2];
  int failed[2];  // carries errno when exec fails
  if (::pipe2(go, O_CLOEXEC) != 0 || ::pipe2(failed, O_CLOEXEC) != 0) {
    error = std::string("pipe: ") + std::strerror(errno);
    return c;
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    error = std::string("fork: ") + std::strerror(errno);
    return c;
  }
  if (pid == 0) {
    ::close(go[1]);
    ::close(failed[0]);
    char byte;
    if (::read(go[0], &byte, 1) != 1) ::_exit(127);
    // A tracer given ambient capabilities (setpriv/capsh, or a service's
    // AmbientCapabilities=) must not hand them on: the command gets none of them.
    ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    const int saved = errno;
    (void)::write(failed[1], &saved, sizeof(saved));
    ::_exit(127);
  }
  ::close(go[0]);
  ::close(failed[1]);
  c.pid_ = pid;
  c.go_ = go[1];
  // Exec failures are reported when released; keep the read end in the status pipe.
  c.failed_ = failed[0];
  return c;
}

command::command(command&& other) noexcept
    : pid_(other.pid_), go_(other.go_), failed_(other.failed_), status_(other.status_),
      command_done_(other.command_done_) {
  other.pid_ = -1;
  other.go_ = -1;
  other.failed_ = -1;
}

command& command::operator=(command&& other) noexcept {
  std::swap(pid_, other.pid_);
  std::swap(go_, other.go_);
  std::swap(failed_, other.failed_);
  std::swap(status_, other.status_);
  std::swap(command_done_, other.command_done_);
  return *this;
}

command::~command() {
  if (go_ >= 0) ::close(go_);
  if (failed_ >= 0) ::close(failed_);
}

std::string command::release() {
  const char byte = 1;
  if (go_ >= 0) {
    (void)::write(go_, &byte, 1);
    ::close(go_);
    go_ = -1;
  }
  // The pipe closes on a successful exec (O_CLOEXEC); otherwise it carries errno.
  int err = 0;
  std::string message;
  if (failed_ >= 0) {
    if (::read(failed_, &err, sizeof(err)) == sizeof(err)) message = std::strerror(err);
    ::close(failed_);
    failed_ = -1;
  }
  return message;
}

bool command::reap() {
  for (;;) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid == 0) return false;  // children remain
    if (pid < 0) return errno == ECHILD;
    if (pid == pid_) {
      command_done_ = true;
      status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
  }
}

void command::signal(int signal) const {
  if (pid_ > 0 && !command_done_) ::kill(pid_, signal);
}

}  // namespace ebpftracer
