// Process context read in the kernel (executable, parent, cgroup, namespaces), resolved by
// the library (paths, container), and the cgroup filter, against ground truth from the
// children themselves: stat(2) of the binary they run, /proc/PID/ns, the cgroups the
// test makes (named as docker and containerd name theirs; no runtime needed).
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <ebpfpub/ebpfpub.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/cgroup.hpp"
#include "support/child.hpp"
#include "support/process.hpp"

namespace sys = ebpfpub::syscalls;
using ebpfpub::context_field;
using ebpfpub::test::child_process;
using ebpfpub::test::hex_id;
using ebpfpub::test::random_name;
using ebpfpub::test::test_cgroup;

namespace {

// A child that runs /bin/sleep: its loader's openat calls come first, then it sleeps long
// enough for the library to read its /proc/PID/exe.
std::unique_ptr<child_process> sleeper() {
  return std::make_unique<child_process>([] {
    ::execl("/bin/sleep", "sleep", "0.6", static_cast<char*>(nullptr));
    return 127;
  });
}

// The openat calls of each child, under a tracer with `options`.
std::map<pid_t, std::vector<ebpfpub::event_header>> openats_of(
    const ebpfpub::tracer_options& options, std::vector<std::unique_ptr<child_process>>& children) {
  auto tracer = ebpfpub::tracer::create(options);
  REQUIRE(tracer);
  std::map<pid_t, std::vector<ebpfpub::event_header>> seen;
  for (auto& c : children) seen[c->pid()];
  REQUIRE(tracer->trace<sys::openat>([&](const auto& e) {
    const auto pid = static_cast<pid_t>(e.header.process_id);
    if (seen.count(pid)) seen[pid].push_back(e.header);
  }));
  REQUIRE(tracer->start());
  for (auto& c : children) c->go();
  // Deliver while the children still sleep (their /proc/PID/exe is there to read).
  for (int i = 0; i < 10; ++i) REQUIRE(tracer->poll(std::chrono::milliseconds(40)));
  for (auto& c : children) CHECK(c->wait() == 0);
  REQUIRE(tracer->poll(std::chrono::milliseconds(10)));
  return seen;
}

std::uint32_t namespace_inode(const std::string& pid, const char* name) {
  struct stat st {};
  REQUIRE(::stat(("/proc/" + pid + "/ns/" + name).c_str(), &st) == 0);
  return static_cast<std::uint32_t>(st.st_ino);
}

}  // namespace

TEST_CASE(
    "events carry the executable, the parent and the container of a child in a runtime-named "
    "cgroup") {
  auto resolver = ebpfpub::cgroup_resolver::create();
  REQUIRE(resolver);
  // Names made after GENERATE: Catch runs the case again for each runtime.
  const auto runtime = GENERATE(std::string("docker"), std::string("containerd"));
  const auto id = hex_id();
  const std::string pod = "ebpfpub_" + random_name(8) + "_0000_0000_000000000000";
  struct naming {
    std::string path, runtime, pod_uid;
  };
  std::string pod_uid = pod;
  for (char& c : pod_uid)
    if (c == '_') c = '-';
  const auto n =
      runtime == "docker"
          ? naming{"/docker-" + id + ".scope", "docker", ""}
          : naming{"/kubepods-besteffort-pod" + pod + ".slice/cri-containerd-" + id + ".scope",
                   "containerd", pod_uid};
  test_cgroup scope(std::filesystem::path(resolver->mount_point()) / n.path.substr(1));
  std::vector<std::unique_ptr<child_process>> children;
  children.push_back(sleeper());  // inside the cgroup
  children.push_back(sleeper());  // outside
  scope.add(children[0]->pid());

  ebpfpub::tracer_options options;
  options.context = context_field::executable | context_field::parent | context_field::container;
  auto seen = openats_of(options, children);

  const auto sleep = std::filesystem::canonical("/bin/sleep");
  struct stat st {};
  REQUIRE(::stat(sleep.c_str(), &st) == 0);
  const auto cgroup_id = resolver->id_of(n.path).value();
  const auto& inside = seen[children[0]->pid()];
  REQUIRE(!inside.empty());
  for (const auto& h : inside) {
    const auto& c = h.context;
    CHECK(c.fields ==
          (context_field::executable | context_field::parent | context_field::container));
    CHECK(c.parent_process_id == static_cast<std::uint32_t>(::getpid()));
    CHECK(c.executable_device == st.st_dev);
    CHECK(c.executable_inode == st.st_ino);
    REQUIRE(c.executable);
    CHECK(c.executable->name == sleep.filename().string());
    CHECK(c.executable->path == sleep.string());
    CHECK(c.cgroup_id == cgroup_id);
    REQUIRE(c.cgroup);
    CHECK(c.cgroup->path == n.path);
    REQUIRE(c.cgroup->container);
    CHECK(c.cgroup->container->runtime == n.runtime);
    CHECK(c.cgroup->container->id == id);
    CHECK(c.cgroup->container->pod_uid == n.pod_uid);
    CHECK(c.namespaces == ebpfpub::namespace_ids{});  // not selected: not read
  }
  const auto& outside = seen[children[1]->pid()];
  REQUIRE(!outside.empty());
  for (const auto& h : outside) {
    CHECK(h.context.cgroup_id != cgroup_id);
    REQUIRE(h.context.cgroup);
    CHECK_FALSE(h.context.cgroup->container);
    CHECK(h.context.executable_inode == st.st_ino);
  }

  SECTION("the cgroup filter keeps only the calls from inside it, in the kernel") {
    std::vector<std::unique_ptr<child_process>> again;
    again.push_back(sleeper());
    again.push_back(sleeper());
    scope.add(again[0]->pid());
    ebpfpub::tracer_options filtered;
    // Absolute under the mount for one naming, relative to the root for the other.
    filtered.filter.cgroup = n.runtime == "docker" ? resolver->mount_point() + n.path : n.path;
    auto kept = openats_of(filtered, again);
    CHECK(kept[again[0]->pid()].size() == inside.size());
    CHECK(kept[again[1]->pid()].empty());
    CHECK(kept[again[0]->pid()].front().context.fields.empty());  // no context asked for
  }
}

TEST_CASE(
    "the cgroup filter takes a parent cgroup's subtree and refuses a path that is no cgroup") {
  auto resolver = ebpfpub::cgroup_resolver::create();
  REQUIRE(resolver);
  const auto parent = "/ebpfpub-" + random_name();
  test_cgroup inner(std::filesystem::path(resolver->mount_point()) / parent.substr(1) / "inner");
  std::vector<std::unique_ptr<child_process>> children;
  children.push_back(sleeper());
  children.push_back(sleeper());
  inner.add(children[0]->pid());
  ebpfpub::tracer_options options;
  options.filter.cgroup = parent;
  options.context = context_field::cgroup;
  auto kept = openats_of(options, children);
  REQUIRE(!kept[children[0]->pid()].empty());
  CHECK(kept[children[1]->pid()].empty());
  const auto& c = kept[children[0]->pid()].front().context;
  REQUIRE(c.cgroup);
  CHECK(c.cgroup->path == parent + "/inner");
  CHECK_FALSE(c.cgroup->container);  // container not asked for

  options.filter.cgroup = parent + "/missing";
  auto tracer = ebpfpub::tracer::create(options);
  REQUIRE(tracer);
  REQUIRE(tracer->trace<sys::openat>([](const auto&) {}));
  auto started = tracer->start();
  REQUIRE_FALSE(started);
  CHECK(started.error().message().find("filter.cgroup: " + parent + "/missing is no cgroup") !=
        std::string::npos);
}

TEST_CASE("namespaces are those stat -L /proc/PID/ns gives, for a process under unshare") {
  // Pid namespace level 1, and level 5: past the levels the programs read with typed
  // loads (4), through their helper-call path.
  const int depth = GENERATE(1, 5);
  ebpfpub::test::scratch_dir dir;
  const auto truth = (dir.path / "ns").string();
  const auto made = (dir.path / random_name()).string();
  // Each of stat's own namespaces, in the order mnt pid net user; then a known call.
  const auto script = "for n in mnt pid net user; do stat -L -c %i /proc/self/ns/$n; done > " +
                      truth + "; mkdir " + made;
  std::vector<std::string> argv = {"/usr/bin/unshare", "--mount", "--net",          "--pid",
                                   "--fork",           "--user",  "--map-root-user"};
  for (int i = 1; i < depth; ++i) argv.insert(argv.end(), {"/usr/bin/unshare", "--pid", "--fork"});
  argv.insert(argv.end(), {"/bin/sh", "-c", script});
  child_process child([&] {
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    return 127;
  });
  ebpfpub::tracer_options options;
  options.context = context_field::namespaces;
  auto tracer = ebpfpub::tracer::create(options);
  REQUIRE(tracer);
  std::vector<ebpfpub::namespace_ids> seen;
  REQUIRE(tracer->trace<sys::mkdir>([&](const auto& e) {
    if (e.args.pathname.value == made) seen.push_back(e.header.context.namespaces);
  }));
  REQUIRE(tracer->start());
  child.go();
  CHECK(child.wait() == 0);
  for (int i = 0; i < 5; ++i) REQUIRE(tracer->poll(std::chrono::milliseconds(40)));

  std::ifstream in(truth);
  ebpfpub::namespace_ids expected;
  in >> expected.mount >> expected.pid >> expected.network >> expected.user;
  REQUIRE(in);
  INFO("pid namespace depth " << depth);
  REQUIRE(seen.size() == 1);
  CHECK(seen[0] == expected);
  // New namespaces, every one: not the test's own.
  CHECK(expected.mount != namespace_inode("self", "mnt"));
  CHECK(expected.pid != namespace_inode("self", "pid"));
  CHECK(expected.network != namespace_inode("self", "net"));
  CHECK(expected.user != namespace_inode("self", "user"));
}

TEST_CASE(
    "ebpftracer --context all prints a command's context in JSON; --cgroup and --context refuse "
    "bad values") {
  const std::string tracer_path = EBPFTRACER_PATH;
  // The command sleeps after its loader's openat calls: its /proc/PID/exe is there to read.
  ebpfpub::test::program_run tracer({tracer_path, "-t", "openat", "--context", "all", "--format",
                                     "json", "--", "/bin/sleep", "1"});
  REQUIRE(tracer.finish() == 0);
  const auto sleep = std::filesystem::canonical("/bin/sleep");
  int events = 0;
  std::istringstream lines(tracer.out());
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("{\"timestamp\"")) continue;
    const auto e = nlohmann::json::parse(line);
    const auto& c = e["context"];
    ++events;
    CHECK(c["executable"]["name"] == "sleep");
    CHECK(c["executable"]["path"] == sleep.string());
    CHECK(c["parent_process_id"] == tracer.pid());
    CHECK(c["cgroup"]["path"].get<std::string>().starts_with("/"));
    CHECK(c["namespaces"]["pid"] == namespace_inode("self", "pid"));
    // `all` resolves paths too: the loader's paths are absolute, and say so.
    CHECK(e["args"]["filename"]["path_state"] == "absolute");
    CHECK(e["args"]["filename"]["path"] == e["args"]["filename"]["value"]);
  }
  CHECK(events > 0);

  ebpfpub::test::program_run missing(
      {tracer_path, "-t", "openat", "--cgroup", "/ebpfpub-missing-cgroup", "--", "/bin/true"});
  CHECK(missing.finish() == 1);
  CHECK(missing.err().find("filter.cgroup: /ebpfpub-missing-cgroup is no cgroup") !=
        std::string::npos);
  ebpfpub::test::program_run unknown(
      {tracer_path, "-t", "openat", "--context", "exe,bogus", "--", "/bin/true"});
  CHECK(unknown.finish() != 0);
  CHECK(unknown.err().find("expected a list of fd, paths, exe, ppid, cgroup, container, ns, all") !=
        std::string::npos);
}

TEST_CASE("a process context in summary mode, which sends no event, is refused") {
  ebpfpub::tracer_options options;
  options.summary = true;
  options.context = context_field::parent;
  auto tracer = ebpfpub::tracer::create(options);
  REQUIRE(tracer);
  REQUIRE(tracer->trace<sys::getppid>([](const auto&) {}));
  auto started = tracer->start();
  REQUIRE_FALSE(started);
  CHECK(started.error().message() ==
        "tracer: context has no effect in summary mode, which sends no event; leave "
        "tracer_options::context empty");
}

TEST_CASE(
    "an executable's name is the kernel's, cut to 31 bytes, whether its dentry keeps it inline "
    "or not") {
  // 12 bytes and 35 fit the dentry's inline 40 (read by typed loads; 35 is cut), 50 does
  // not (read through its pointer, and cut).
  const auto length = GENERATE(std::size_t{12}, std::size_t{35}, std::size_t{50});
  ebpfpub::test::scratch_dir dir;
  const auto name = random_name(length);
  const auto copy = dir.path / name;
  std::filesystem::copy_file("/bin/true", copy);
  std::filesystem::permissions(copy, std::filesystem::perms::owner_all);
  struct stat st {};
  REQUIRE(::stat(copy.c_str(), &st) == 0);
  std::vector<std::unique_ptr<child_process>> children;
  children.push_back(std::make_unique<child_process>([&] {
    ::execl(copy.c_str(), name.c_str(), static_cast<char*>(nullptr));
    return 127;
  }));
  ebpfpub::tracer_options options;
  options.context = context_field::executable;
  auto seen = openats_of(options, children);
  INFO("name of " << length << " bytes");
  const auto& events = seen[children[0]->pid()];
  REQUIRE(!events.empty());  // the loader opens ld.so.cache and libc
  for (const auto& h : events) {
    CHECK(h.context.executable_device == st.st_dev);
    CHECK(h.context.executable_inode == st.st_ino);
    REQUIRE(h.context.executable);
    CHECK(h.context.executable->name == name.substr(0, 31));
  }
}
