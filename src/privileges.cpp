#include <ebpfpub/privileges.hpp>

#include <cerrno>
#include <charconv>
#include <fstream>
#include <string>

#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>

namespace ebpfpub {
namespace {

// capset(2) directly: three 32-bit words twice (version 3), only `keep` set (effective and
// permitted). One syscall does not justify a dependency on libcap.
int set_capability_sets(std::uint64_t keep) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  for (int i = 0; i < _LINUX_CAPABILITY_U32S_3 && i < 2; ++i) {
    data[i].effective = static_cast<std::uint32_t>(keep >> (32 * i));
    data[i].permitted = data[i].effective;
  }
  return static_cast<int>(::syscall(SYS_capset, &header, data));
}

struct user_ids {
  uid_t uid;
  gid_t gid;
};

expected<user_ids> find_user(const std::string& user) {
  uid_t uid = 0;
  const auto [end, ec] = std::from_chars(user.data(), user.data() + user.size(), uid);
  const passwd* pw = (ec == std::errc() && end == user.data() + user.size()) ? ::getpwuid(uid)
                                                                            : ::getpwnam(user.c_str());
  if (pw == nullptr)
    return error(errc::not_found, fmt::format("dropping privileges: no user {} in the password "
                                              "database; name an existing user", user));
  return user_ids{pw->pw_uid, pw->pw_gid};
}

}  // namespace

std::uint64_t effective_capabilities() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("CapEff:")) continue;
    std::uint64_t caps = 0;
    const auto text = line.substr(line.find_first_not_of(" \t", 7));
    std::from_chars(text.data(), text.data() + text.size(), caps, 16);
    return caps;
  }
  return 0;
}

expected<void> drop_privileges(const privilege_options& options) {
  // The bounding set first, while CAP_SETPCAP may still allow it; without it (a tracer
  // given only CAP_BPF, CAP_PERFMON, CAP_DAC_READ_SEARCH) no_new_privs below keeps exec
  // from using the bounding set anyway.
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap)
    if ((options.keep >> cap & 1) == 0 && ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
      (void)::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
  // A uid change clears the permitted set unless told to keep it (capset trims it after).
  if (options.keep != 0 && ::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
    return error::from_errno(errno, "dropping privileges: keeping capabilities across the user switch");
  if (!options.user.empty()) {
    auto ids = find_user(options.user);
    if (!ids) return ids.error();
    if (::setgroups(0, nullptr) != 0 || ::setresgid(ids->gid, ids->gid, ids->gid) != 0 ||
        ::setresuid(ids->uid, ids->uid, ids->uid) != 0)
      return error::from_errno(errno, fmt::format("dropping privileges: switching to user {} "
                                                  "(needs CAP_SETUID and CAP_SETGID)", options.user));
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    return error::from_errno(errno, "dropping privileges: clearing the ambient capabilities");
  if (set_capability_sets(options.keep) != 0)
    return error::from_errno(errno, fmt::format("dropping privileges: setting the capability sets to {:#x} "
                                                "(capset; a capability to keep must be held)", options.keep));
  if (options.keep != 0) (void)::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return error::from_errno(errno, "dropping privileges: setting no_new_privs");
  if (effective_capabilities() != options.keep)
    return error(errc::internal, "dropping privileges: capabilities other than those kept remain after capset");
  return {};
}

}  // namespace ebpfpub
