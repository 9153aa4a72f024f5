#pragma once
// What the fd identity kernel tests share: a session that records every fcntl(fd,
// F_GETFL, MARKER) with fd identities on, the probe call itself, and the ground truth a
// child takes from its own fds (fstat, F_GETFL, readlink /proc/self/fd/N) into memory
// its parent reads.

#include <cstdint>
#include <map>
#include <new>
#include <random>
#include <string>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <ebpfpub/ebpfpub.hpp>

#include "support/session.hpp"

namespace ebpfpub::test {

/// The call a child makes to show the tracer what `descriptor` names: F_GETFL ignores its
/// third argument, so the marker finds the call in the trace.
inline long probe_fd(int descriptor, long marker) { return ::syscall(SYS_fcntl, descriptor, F_GETFL, marker); }

/// A marker base no other test or process uses by chance.
inline long random_marker() {
  static std::mt19937_64 generator{std::random_device{}()};
  return 0x5eed00000 + static_cast<long>(generator() % 0x100000) * 64;
}

/// What a child knows of one of its fds.
struct fd_truth {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::uint32_t mode = 0;
  std::uint32_t flags = 0;
  char link[256] = {};  ///< readlink /proc/self/fd/N
};

inline fd_truth truth_of(int descriptor) {
  fd_truth t;
  struct stat st {};
  if (::fstat(descriptor, &st) == 0) {
    t.device = st.st_dev;
    t.inode = st.st_ino;
    t.mode = st.st_mode;
  }
  t.flags = static_cast<std::uint32_t>(::fcntl(descriptor, F_GETFL));
  const auto link = "/proc/self/fd/" + std::to_string(descriptor);
  const auto n = ::readlink(link.c_str(), t.link, sizeof(t.link) - 1);
  if (n > 0) t.link[n] = 0;
  return t;
}

/// Memory the child writes and the parent reads after it exits (MAP_SHARED survives fork).
template <typename T>
class shared {
 public:
  shared() {
    void* m = ::mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) throw std::bad_alloc();
    value_ = new (m) T{};
  }
  shared(const shared&) = delete;
  shared& operator=(const shared&) = delete;
  ~shared() { ::munmap(value_, sizeof(T)); }
  T* operator->() { return value_; }
  T& operator*() { return *value_; }

 private:
  T* value_;
};

/// A probe the tracer saw: who made it and the fd argument as decoded.
struct probe {
  std::uint32_t process_id = 0;
  std::uint32_t thread_id = 0;
  ebpfpub::fd descriptor;
};

/// A child session with fd identities on, recording fcntl probes by marker (from any
/// process: forked children probe too).
class fd_session {
 public:
  fd_session() : session_(options()) {
    auto ok = session_.get().trace("fcntl", [this](const dynamic_event& e) {
      if (e.args.size() < 3) return;
      const auto* marker = std::get_if<std::uint64_t>(&e.args[2].value);
      const auto* descriptor = std::get_if<ebpfpub::fd>(&e.args[0].value);
      if (!marker || !descriptor) return;
      probes_[static_cast<long>(*marker)] = {e.header.process_id, e.header.thread_id, *descriptor};
    });
    if (!ok) FAIL(ok.error().what());
  }
  static tracer_options options() {
    tracer_options o;
    o.capture.fd_identity = true;
    return o;
  }
  child_session& session() { return session_; }
  int run(child_process& child) { return session_.run(child); }
  /// The probe with `marker`; fails the test when the tracer did not see it.
  const probe& at(long marker) const {
    const auto it = probes_.find(marker);
    if (it == probes_.end()) FAIL("no fcntl probe with marker " << marker);
    return it->second;
  }
  /// The identity the probe with `marker` read; fails the test when it has none.
  const fd_identity& identity(long marker) const {
    const auto& p = at(marker);
    REQUIRE(p.descriptor.identity.has_value());
    return *p.descriptor.identity;
  }

 private:
  child_session session_;
  std::map<long, probe> probes_;
};

/// The identity names the file the child saw: device, inode, type and flags.
inline void check_same_file(const fd_identity& id, const fd_truth& truth) {
  CHECK(id.state == fd_state::open);
  CHECK(id.device == truth.device);
  CHECK(id.inode == truth.inode);
  CHECK(id.mode == truth.mode);
  CHECK(id.flags == truth.flags);
}

}  // namespace ebpfpub::test
