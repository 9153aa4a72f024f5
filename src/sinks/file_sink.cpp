// file:///path.jsonl: whole records per write(2), rotation by size or age, reopen on
// request (SIGHUP, after logrotate moved the file).

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "kernel/unique_fd.hpp"
#include "sinks/transport.hpp"

namespace ebpfpub::sinks::detail {
namespace {

// One write(2) carries at most this much, always whole records: large enough that a
// batch is a few system calls, small enough not to hold a second copy of a huge queue.
constexpr std::size_t write_chunk = 1 << 20;

class file_transport final : public transport {
 public:
  file_transport(std::string path, std::uint64_t rotate_bytes, std::uint64_t rotate_seconds,
                 std::uint64_t keep)
      : path_(std::move(path)),
        rotate_bytes_(rotate_bytes),
        rotate_seconds_(rotate_seconds),
        keep_(keep) {}

  expected<void> open_file() {
    // O_NOFOLLOW: a symlink planted at the path (a log directory others can write) must
    // not redirect a root process's writes.
    const int fd =
        ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (fd < 0) return error::from_errno(errno, fmt::format("file sink: opening {}", path_));
    fd_.reset(fd);
    struct stat st {};
    size_ = ::fstat(fd, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
    opened_ = std::chrono::steady_clock::now();
    return {};
  }

  void send(std::vector<outgoing_record>& batch, const std::atomic<bool>&) override {
    service();
    std::size_t i = 0;
    while (i < batch.size()) {
      if (!fd_) {
        // The file could not be reopened: these records are lost, and say so.
        for (; i < batch.size(); ++i)
          log_->lost(lost_span::of(batch[i]), "sink_write_failed");
        return;
      }
      buffer_.clear();
      const std::size_t first = i;
      for (; i < batch.size(); ++i) {
        const std::size_t len = batch[i].json.size() + 1;
        if (i > first && (buffer_.size() + len > write_chunk || must_rotate(buffer_.size() + len)))
          break;
        // An empty file takes a record of any size (else rotation would never end).
        if (i == first && size_ > 0 && must_rotate(len)) rotate();
        buffer_ += batch[i].json;
        buffer_ += '\n';
      }
      if (write_whole(buffer_)) {
        log_->delivered(i - first);
      } else {
        for (std::size_t j = first; j < i; ++j)
          log_->lost(lost_span::of(batch[j]), "sink_write_failed");
      }
    }
  }

  void service() override {
    if (reopen_.exchange(false)) (void)open_file();
    if (rotate_seconds_ > 0 && size_ > 0 &&
        std::chrono::steady_clock::now() - opened_ >= std::chrono::seconds(rotate_seconds_))
      rotate();
  }

  void request_reopen() override { reopen_ = true; }

 private:
  // Would `adding` more bytes, after what the file holds, pass the size limit?
  bool must_rotate(std::uint64_t adding) const {
    return rotate_bytes_ > 0 && size_ + adding > rotate_bytes_;
  }

  // path -> path.1 -> path.2 ... up to keep_ (the oldest goes).
  void rotate() {
    namespace fs = std::filesystem;
    std::error_code ec;
    for (std::uint64_t n = keep_; n >= 1; --n) {
      const auto from = n == 1 ? fs::path(path_) : fs::path(fmt::format("{}.{}", path_, n - 1));
      fs::rename(from, fmt::format("{}.{}", path_, n), ec);
    }
    if (keep_ == 0) fs::remove(path_, ec);
    (void)open_file();
  }

  // Writes every byte or none: a short write is continued (EINTR retried), and a failure
  // part-way is cut back with ftruncate, so the file never ends in part of a record.
  bool write_whole(const std::string& data) {
    const std::uint64_t before = size_;
    std::size_t done = 0;
    while (done < data.size()) {
      const ssize_t n = ::write(fd_.get(), data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        if (done > 0) (void)::ftruncate(fd_.get(), static_cast<off_t>(before));
        return false;
      }
      done += static_cast<std::size_t>(n);
    }
    size_ += data.size();
    return true;
  }

  std::string path_;
  std::uint64_t rotate_bytes_;
  std::uint64_t rotate_seconds_;
  std::uint64_t keep_;
  ebpfpub::detail::unique_fd fd_;
  std::uint64_t size_ = 0;
  std::chrono::steady_clock::time_point opened_;
  std::atomic<bool> reopen_ = false;
  std::string buffer_;
};

}  // namespace

expected<std::unique_ptr<transport>> open_file(const url_parts& u, std::string_view url,
                                               const sink_options&) {
  if (!u.authority.empty() && u.authority != "localhost")
    return error(
        errc::invalid_argument,
        fmt::format("sink URL '{}': a file URL names a local path: file:///var/log/x.jsonl", url));
  if (u.path.empty())
    return error(errc::invalid_argument, fmt::format("sink URL '{}': no file path", url));
  auto bytes = query_number(u, "rotate_bytes", 0, url);
  auto seconds = query_number(u, "rotate_seconds", 0, url);
  auto keep = query_number(u, "keep", 5, url);
  if (!bytes) return bytes.error();
  if (!seconds) return seconds.error();
  if (!keep) return keep.error();
  auto t = std::make_unique<file_transport>("/" + u.path, *bytes, *seconds, *keep);
  if (auto ok = t->open_file(); !ok) return ok.error();
  return std::unique_ptr<transport>(std::move(t));
}

}  // namespace ebpfpub::sinks::detail
