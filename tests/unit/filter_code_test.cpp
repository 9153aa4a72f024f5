// Filter expressions in the generated code, without a kernel: where each part runs
// (enter before or after the captures, or exit), and that the module compiles.
#include "codegen/filter_code.hpp"

#include <catch2/catch.hpp>
#include <set>
#include <ebpfpub/filter/expression.hpp>
#include <ebpfpub/serializers/all.hpp>

#include "codegen/codegen.hpp"
#include "ir_flow.hpp"

namespace sys = ebpfpub::syscalls;
namespace filter = ebpfpub::filter;
using ebpfpub::test::control_flow;

namespace {

filter::checked_expression checked(const ebpfpub::plan& p, std::string_view text) {
  auto parsed = filter::parse(text);
  REQUIRE(parsed);
  auto c = filter::check(*parsed, p, text);
  if (!c) FAIL(c.error().message());
  // As the session gives it: the `and` of the syscall's filters.
  filter::checked_expression all;
  all.type = filter::expression::kind::all_of;
  all.at_enter = c->at_enter;
  all.operands.push_back(std::move(*c));
  return all;
}

// The text of function `name` in the module's IR.
std::string function_ir(const std::string& ir, const std::string& name) {
  const auto start = ir.find("@" + name + "(");
  REQUIRE(start != std::string::npos);
  return ir.substr(start, ir.find("\n}\n", start) - start);
}

}  // namespace

TEST_CASE("a filter splits at its top-level and: enter decides what it can, exit the rest") {
  const auto p = ebpfpub::serializer<sys::openat>::make_plan({});
  SECTION("a bit test at enter, the exit code at exit") {
    // The parser makes `a and b` one all_of: the session's `and` holds it.
    const auto parts = ebpfpub::detail::split_filter(
        checked(p, "openat.flags & O_CREAT and exit_code == -ENOENT").operands.at(0), p);
    REQUIRE(parts.enter);
    REQUIRE(parts.exit);
    CHECK(parts.enter->operands.size() == 1);
    CHECK(parts.exit->operands.size() == 1);
    CHECK(!ebpfpub::detail::reads_captures(*parts.enter));
  }
  SECTION("an or that needs the result waits for exit as a whole") {
    const auto parts = ebpfpub::detail::split_filter(
        checked(p, "openat.filename startswith \"/etc/\" or exit_code == 0"), p);
    CHECK(!parts.enter);
    REQUIRE(parts.exit);
    CHECK(ebpfpub::detail::reads_captures(*parts.exit));
  }
  SECTION("a path test waits for exit, where a path enter could not read is read again") {
    const auto parts = ebpfpub::detail::split_filter(
        checked(p, "openat.flags & O_CREAT and openat.filename startswith \"/etc/\"").operands.at(0), p);
    REQUIRE(parts.enter);
    REQUIRE(parts.exit);
    CHECK(!ebpfpub::detail::reads_captures(*parts.enter));
    CHECK(ebpfpub::detail::reads_captures(*parts.exit));
  }
  SECTION("a filter's own and splits inside the session's and of the filters") {
    const auto parts = ebpfpub::detail::split_filter(checked(p, "openat.flags & O_CREAT and exit_code == -ENOENT"), p);
    REQUIRE(parts.enter);
    REQUIRE(parts.exit);
    CHECK(parts.enter->operands.size() == 1);
    CHECK(parts.exit->operands.size() == 1);
  }
  SECTION("no filter, no parts") {
    filter::checked_expression none;
    none.type = filter::expression::kind::all_of;
    const auto parts = ebpfpub::detail::split_filter(none, p);
    CHECK(!parts.enter);
    CHECK(!parts.exit);
  }
}

TEST_CASE("a filter on numbers runs at enter before the captures, one on the path at exit") {
  std::vector<ebpfpub::plan> plans{ebpfpub::serializer<sys::openat>::make_plan({})};
  ebpfpub::detail::program_maps maps{.output_fd = 10, .counters_fd = 11};
  maps.storage_fd.push_back(12);
  maps.storage_size.push_back(ebpfpub::detail::entry_size(plans[0], 4));
  const auto [text, at_enter] = GENERATE(table<std::string, bool>({
      {"openat.flags & O_CREAT", true},
      {"openat.filename endswith \".conf\"", false},
  }));
  INFO(text);
  ebpfpub::detail::codegen_options options{.keep_ir = true};
  options.expressions.push_back(checked(plans[0], text));
  auto code = ebpfpub::detail::generate_programs(plans, maps, options);
  if (!code) FAIL(code.error().what());
  const auto enter = function_ir(code->ir, "enter_openat");
  const auto exit = function_ir(code->ir, "exit_openat");
  // bpf_probe_read_user_str is helper 114.
  const auto capture = enter.find("inttoptr (i64 114 to ptr)");
  REQUIRE(capture != std::string::npos);
  if (at_enter) {
    // Blocks print in the order they were made: the rejection before the capture, and the
    // exit program releases an entry the enter program rejected (size 0) quietly.
    const auto rejected = enter.find("filtered:");
    REQUIRE(rejected != std::string::npos);
    CHECK(rejected < capture);
    CHECK(exit.find("kept_at_enter") != std::string::npos);
  } else {
    // The path may be one enter could not read (an untouched page): exit reads it again,
    // then decides.
    CHECK(enter.find("filtered:") == std::string::npos);
    CHECK(exit.find("filtered:") != std::string::npos);
  }
}

namespace {

// The helper calls on the enter program's path to a rejection at enter: before the
// filter's branch (not through the block where it passed), and from the rejection on.
struct rejected_path {
  std::multiset<int> before_test;
  std::multiset<int> after_test;
};

rejected_path helpers_when_rejected(const std::string& function) {
  control_flow cfg(function);
  return {cfg.helpers_before("filtered", {"filter_passed"}), cfg.helpers_after("filtered")};
}

constexpr int get_current_pid_tgid = 14, get_current_uid_gid = 15, ktime_get_ns = 5, map_lookup_elem = 1,
              probe_read_kernel = 113, get_current_task = 35, get_current_task_btf = 158, task_storage_get = 156;

}  // namespace

TEST_CASE("a call rejected at enter on numbers reads only what the test needs; its exit finds a mark or tests again") {
  std::vector<ebpfpub::plan> plans{ebpfpub::serializer<sys::openat>::make_plan({})};
  ebpfpub::detail::program_maps maps{.output_fd = 10, .counters_fd = 11};
  maps.storage_fd.push_back(12);
  maps.storage_size.push_back(ebpfpub::detail::entry_size(plans[0], 4));
  ebpfpub::detail::codegen_options options{.self_tgid = 4321, .keep_ir = true};
  const bool dispatch = GENERATE(false, true);
  INFO((dispatch ? "dispatch" : "tracepoints"));
  if (dispatch) {
    options.dispatch = {.enabled = true, .enter_programs_fd = 13, .exit_programs_fd = 14,
                        .argument_registers = {112, 104, 96, 56, 72, 64}, .orig_ax = 120, .thread_status = 8};
  }
  // The dispatch guard reads the thread's status (the task's address, then
  // bpf_probe_read_kernel), before anything else.
  const std::multiset<int> guard =
      dispatch ? std::multiset<int>{get_current_task, probe_read_kernel} : std::multiset<int>{};
  auto expect_before = [&](std::multiset<int> own) {
    own.insert(get_current_pid_tgid);
    own.insert(guard.begin(), guard.end());
    return own;
  };
  // The mark (the thread's entry: two helpers) and the filtered count (one lookup); a
  // missing entry counts no_storage instead (the other lookup). A call whose exit tests
  // again is only counted.
  const std::multiset<int> marking{get_current_task_btf, task_storage_get, map_lookup_elem, map_lookup_elem};
  const std::multiset<int> counting{map_lookup_elem};
  // Dispatch mode reads the argument registers with one bpf_probe_read_kernel.
  const std::multiset<int> argument_read =
      dispatch ? std::multiset<int>{probe_read_kernel} : std::multiset<int>{};

  SECTION("a bit test on an argument: the argument, no timestamp, no uid") {
    options.expressions.push_back(checked(plans[0], "openat.flags & O_CREAT"));
    auto code = ebpfpub::detail::generate_programs(plans, maps, options);
    if (!code) FAIL(code.error().what());
    const auto path = helpers_when_rejected(function_ir(code->ir, "enter_openat"));
    CHECK(path.before_test == expect_before(argument_read));
    // The registers are there at exit too; a sys_exit_openat record has only `ret`.
    CHECK(path.after_test == (dispatch ? counting : marking));
  }
  SECTION("a test on the uid: the uid helper once, before the test, and the header reuses it") {
    options.expressions.push_back(checked(plans[0], "uid != 0"));
    auto code = ebpfpub::detail::generate_programs(plans, maps, options);
    if (!code) FAIL(code.error().what());
    const auto enter = function_ir(code->ir, "enter_openat");
    const auto path = helpers_when_rejected(enter);
    CHECK(path.before_test == expect_before({get_current_uid_gid}));
    CHECK(path.after_test == counting);
    // Both modes' exits can ask again: the uid helper, nothing else, before the test.
    control_flow exit(function_ir(code->ir, "exit_openat"));
    CHECK(exit.helpers_before("passed_again", {}) == std::multiset<int>{get_current_uid_gid});
    std::size_t uid_calls = 0;
    for (auto at = enter.find("inttoptr (i64 15 to ptr)"); at != std::string::npos;
         at = enter.find("inttoptr (i64 15 to ptr)", at + 1))
      ++uid_calls;
    CHECK(uid_calls == 1);
  }
  SECTION("a test on the thread id: the exit reads pid_tgid for it") {
    options.expressions.push_back(checked(plans[0], "tid > 1"));
    auto code = ebpfpub::detail::generate_programs(plans, maps, options);
    if (!code) FAIL(code.error().what());
    CHECK(helpers_when_rejected(function_ir(code->ir, "enter_openat")).after_test == counting);
    control_flow exit(function_ir(code->ir, "exit_openat"));
    CHECK(exit.helpers_before("passed_again", {}) == std::multiset<int>{get_current_pid_tgid});
  }
  SECTION("a call that ends at another's exit, or at whose exit another's may, marks the entry") {
    // As execveat's calls end at sys_exit_execve: here openat's at open's.
    auto open_plan = plans[0];
    open_plan.syscall.name = "open";
    plans[0].exit_aliases = {"open"};
    plans.push_back(open_plan);
    maps.storage_fd.push_back(12);
    maps.storage_size.push_back(maps.storage_size[0]);
    options.expressions.push_back(checked(plans[0], "uid != 0"));
    options.expressions.push_back(checked(plans[1], "uid != 0"));
    auto code = ebpfpub::detail::generate_programs(plans, maps, options);
    if (!code) FAIL(code.error().what());
    for (const auto* name : {"openat", "open"}) {
      INFO(name);
      CHECK(helpers_when_rejected(function_ir(code->ir, std::string("enter_") + name)).after_test == marking);
    }
    CHECK(code->ir.find("passed_again") == std::string::npos);
  }
  SECTION("a test the call may change or another thread may, marks the entry") {
    // setresuid changes the uid it is tested on; a thread's name can change under it.
    const bool setuid = GENERATE(true, false);
    if (setuid) plans[0] = ebpfpub::serializer<sys::setresuid>::make_plan({});
    const auto name = setuid ? std::string("setresuid") : std::string("openat");
    options.expressions.push_back(checked(plans[0], setuid ? "uid == 0" : "comm == \"curl\""));
    auto code = ebpfpub::detail::generate_programs(plans, maps, options);
    if (!code) FAIL(code.error().what());
    const auto path = helpers_when_rejected(function_ir(code->ir, "enter_" + name));
    CHECK(path.after_test == marking);
    CHECK(function_ir(code->ir, "exit_" + name).find("passed_again") == std::string::npos);
  }
  SECTION("the exit program releases a marked entry before anything else is read, or tests again") {
    options.expressions.push_back(checked(plans[0], "openat.flags & O_CREAT"));
    auto code = ebpfpub::detail::generate_programs(plans, maps, options);
    if (!code) FAIL(code.error().what());
    control_flow exit(function_ir(code->ir, "exit_openat"));
    if (dispatch) {
      // The test first, on the registers (no pid_tgid: the test has no pid); a rejected
      // call ends there, before the thread's entry is looked for.
      CHECK(exit.helpers_before("passed_again", {}) == std::multiset<int>{probe_read_kernel});
      CHECK(exit.helpers_before("present", {}).count(task_storage_get) == 1);
      CHECK(exit.reachable("entry", {"passed_again"}).count("present") == 0);
      return;
    }
    // The entry is looked for first: the thread's task storage, nothing else (no guard,
    // no pid, no self or process check: the enter program ran them on this call); the
    // block that tests the entry's size ("matched") then ends a rejected call.
    CHECK(exit.helpers_before("matched", {"next_target"}) ==
          std::multiset<int>{get_current_task_btf, task_storage_get});
    CHECK(exit.text["matched"].find("kept_at_enter") != std::string::npos);
  }
}
