#include "output.hpp"

#include <cerrno>
#include <climits>
#include <string_view>

#include <unistd.h>

namespace ebpftracer {
namespace {

// The longest prefix of `text` made of whole lines and at most PIPE_BUF bytes, or the
// first line when it alone is longer (or all of it, when it holds no newline).
std::size_t chunk(std::string_view text) {
  if (text.size() <= PIPE_BUF) return text.size();
  const auto last = text.substr(0, PIPE_BUF).rfind('\n');
  if (last != std::string_view::npos) return last + 1;
  const auto end = text.find('\n');
  return end == std::string_view::npos ? text.size() : end + 1;
}

// All of `bytes`, continuing after partial writes and signals.
bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

bool line_output::flush() {
  std::string_view rest(pending_.data(), pending_.size());
  bool ok = true;
  while (ok && !rest.empty()) {
    const auto n = chunk(rest);
    ok = write_all(fd_, rest.substr(0, n));
    rest.remove_prefix(n);
  }
  pending_.clear();
  return ok;
}

}  // namespace ebpftracer
