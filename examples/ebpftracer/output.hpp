#pragma once
// Where events go: whole lines only, straight to the descriptor.

#include <string>

#include <fmt/format.h>

namespace ebpftracer {

/// Collects complete events and writes them with write(2), never through stdio: with
/// `-- CMD` the traced command writes to the same stdout, and a line of ours cut by one
/// of its lines (or one left half in a stdio buffer) is a line nobody can parse.
class line_output {
 public:
  explicit line_output(int fd) : fd_(fd) {}
  /// The buffer to append whole lines to (each ends in '\n').
  fmt::memory_buffer& buffer() { return pending_; }
  /// Writes what is pending. Each write(2) holds whole lines, at most PIPE_BUF bytes
  /// when the lines allow (a pipe does not interleave another writer into such a
  /// write); a longer line goes alone. Partial writes and EINTR are continued, so no
  /// byte is lost; false (errno set) when the descriptor fails.
  bool flush();

 private:
  int fd_;
  fmt::memory_buffer pending_;
};

}  // namespace ebpftracer
