// Filters on context fields without a kernel: what each name resolves to (the process
// context block's offsets, an fd identity's record), the errors naming the option to turn
// on, and the order of the enter program's stages.
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <ebpfpub/fd_identity.hpp>
#include <ebpfpub/filter/expression.hpp>
#include <ebpfpub/record.hpp>
#include <ebpfpub/serializers/all.hpp>

#include "codegen/codegen.hpp"
#include "codegen/filter_code.hpp"
#include "ir_flow.hpp"

namespace sys = ebpfpub::syscalls;
namespace filter = ebpfpub::filter;
using ebpfpub::context_field;
using ebpfpub::context_fields;
using source = filter::operand_source::kind;
using ebpfpub::test::control_flow;

namespace {

ebpfpub::plan read_plan(bool fd_identity) {
  ebpfpub::plan_options o;
  o.fd_identity = fd_identity;
  return ebpfpub::serializer<sys::read>::make_plan(o);
}

ebpfpub::expected<filter::checked_expression> check(std::string_view text, const ebpfpub::plan& p,
                                                    context_fields context) {
  auto parsed = filter::parse(text);
  REQUIRE(parsed);
  return filter::check(*parsed, p, text, context);
}

}  // namespace

TEST_CASE("context fields resolve to the context block's offsets, as the formatter names them") {
  namespace off = ebpfpub::record::context_offset;
  const auto p = read_plan(false);
  const auto [text, type, offset, width] = GENERATE(table<std::string, source, std::uint16_t, std::uint8_t>({
      {"ppid == 1", source::context_number, off::parent_pid, 4},
      {"parent_process_id == 1", source::context_number, off::parent_pid, 4},
      {"cgroup == 1", source::context_number, off::cgroup_id, 8},
      {"cgroup_id == 1", source::context_number, off::cgroup_id, 8},
      {"mnt_ns == 1", source::context_number, off::mnt_ns, 4},
      {"pid_ns == 1", source::context_number, off::pid_ns, 4},
      {"net_ns == 1", source::context_number, off::net_ns, 4},
      {"user_ns == 1", source::context_number, off::user_ns, 4},
      {"exe.inode == 1", source::context_number, off::exe_inode, 8},
      {"executable.device == 1", source::context_number, off::exe_device, 4},
      {"exe.name == \"sh\"", source::context_string, off::exe_name, 8},
  }));
  INFO(text);
  const auto c = check(text, p, context_fields::all());
  REQUIRE(c);
  CHECK(c->test.source.type == type);
  CHECK(c->test.source.offset == offset);
  CHECK(c->test.source.width == width);
  CHECK(c->at_enter);
}

TEST_CASE("fd fields resolve to the identity record; kinds and devices become what the kernel holds") {
  namespace layout = ebpfpub::record::fd_identity_layout;
  const auto p = read_plan(true);
  auto kind = check("read.fd.kind in {pipe, dir, anon_inode}", p, {});
  REQUIRE(kind);
  CHECK(kind->test.source.type == source::fd_kind);
  REQUIRE(kind->test.operand.items.size() == 3);
  CHECK(kind->test.operand.items[0].integer == S_IFIFO);
  CHECK(kind->test.operand.items[1].integer == S_IFDIR);
  CHECK(kind->test.operand.items[2].integer == 0);
  auto device = check("read.fd.device == 2051", p, {});  // makedev(8, 3)
  REQUIRE(device);
  CHECK(device->test.operand.integer == ((8 << 20) | 3));
  auto port = check("read.fd.remote_port == 443", p, {});
  REQUIRE(port);
  CHECK(port->test.source.offset == layout::remote_port);
  CHECK(port->test.source.network_order);
  auto address = check("read.fd.address in 10.0.0.0/8", p, {});
  REQUIRE(address);
  CHECK(address->test.source.type == source::fd_address);
  CHECK(address->test.source.offset == layout::local_address);
  auto name = check("read.fd.name endswith \".log\"", p, {});
  REQUIRE(name);
  CHECK(name->test.source.type == source::fd_string);
  CHECK(name->test.source.size == layout::name_size);
  // The path is not in the record: it is walked when compared, at enter, with the
  // strings' bound on the constant.
  auto path = check("read.fd.path startswith \"/etc/\"", p, {});
  REQUIRE(path);
  CHECK(path->test.source.type == source::fd_path);
  CHECK(path->test.source.argument == 0);
  CHECK(path->at_enter);
  CHECK_FALSE(check(fmt::format("read.fd.path == \"{}\"", std::string(129, 'x')), p, {}));
  auto type = check("read.fd.type == SOCK_DGRAM and read.fd.family == AF_INET6", p, {});
  REQUIRE(type);
  CHECK(type->operands.at(0).test.operand.integer == 2);
  CHECK(type->operands.at(1).test.operand.integer == 10);
}

TEST_CASE("a context field that is not read names the option that reads it, in library terms") {
  const auto [text, context, message] = GENERATE(table<std::string, context_fields, std::string>({
      {"ppid == 1", context_fields{}, "ppid is a process context field, which this tracer does not read: add "
                                      "context_field::parent to tracer_options::context"},
      {"cgroup == 1", context_field::executable, "add context_field::cgroup to tracer_options::context"},
      {"user_ns == 1", context_field::parent, "add context_field::namespaces to tracer_options::context"},
      {"exe.inode == 1", context_field::namespaces, "add context_field::executable to tracer_options::context"},
      {"exe.size == 1", context_field::executable, "exe has no member size: compare exe.inode, exe.device or exe.name"},
      {"read.fd.kind == pipe", context_fields::all(), "read.fd.kind is a field of the fd's identity, which this "
                                                      "plan does not read: set plan_options::fd_identity"},
      {"exe.name == \"0123456789012345678901234567890123\"", context_fields::all(),
       "the string is 34 bytes; a filter compares at most 31"},
      {"cgroup > 5", context_fields::all(), "cgroup is a number: this comparison does not apply to it"},
  }));
  INFO(text);
  const auto c = check(text, read_plan(false), context);
  REQUIRE_FALSE(c);
  CHECK_THAT(c.error().message(), Catch::Matchers::Contains(message));
  CHECK_THAT(c.error().message(), Catch::Matchers::Contains("^"));
}

TEST_CASE("the enter program tests numbers, then reads the context and tests it, then captures") {
  std::vector<ebpfpub::plan> plans{ebpfpub::serializer<sys::openat>::make_plan({})};
  ebpfpub::detail::program_maps maps{.output_fd = 10, .counters_fd = 11};
  maps.storage_fd.push_back(12);
  maps.storage_size.push_back(ebpfpub::detail::entry_size(plans[0], 4, ebpfpub::record::context_size + 8));
  ebpfpub::detail::codegen_options options{.keep_ir = true};
  options.context.fields = context_field::parent;
  const std::string text = "ppid == 1 and openat.flags & O_CREAT";
  auto parsed = filter::parse(text);
  REQUIRE(parsed);
  auto c = filter::check(*parsed, plans[0], text, context_field::parent);
  REQUIRE(c);
  const auto stages = ebpfpub::detail::by_stage(*c);
  REQUIRE(stages[0]);
  REQUIRE(stages[1]);
  CHECK(!stages[2]);
  filter::checked_expression all;
  all.type = filter::expression::kind::all_of;
  all.operands.push_back(*c);
  options.expressions.push_back(all);
  auto code = ebpfpub::detail::generate_programs(plans, maps, options);
  if (!code) FAIL(code.error().what());
  const auto& ir = code->ir;
  const auto start = ir.find("@enter_openat(");
  REQUIRE(start != std::string::npos);
  const auto enter = ir.substr(start, ir.find("\n}\n", start) - start);
  // Blocks print in the order they were made, not run: what tells the order is the
  // control flow. The context is read only on the way on from the number stage's pass
  // block; the context stage's rejection comes after that read, and the captures only on
  // the way on from where that stage passes.
  control_flow cfg(enter);
  const auto context_read = cfg.block_with("%real_parent =");
  // bpf_probe_read_user_str is helper 114: the path's capture.
  const auto capture = cfg.block_with("inttoptr (i64 114 to ptr)");
  CHECK(!cfg.reachable("entry", {"filter_passed"}).contains(context_read));
  CHECK(cfg.reachable("filter_passed", {}).contains(context_read));
  // The context stage's rejection: the "filtered" block that is not the number stage's.
  std::string context_rejection;
  for (const auto& [name, code] : cfg.text)
    if (name != "filtered" && name.starts_with("filtered") && !code.empty()) context_rejection = name;
  REQUIRE(!context_rejection.empty());
  CHECK(cfg.reachable(context_read, {}).contains(context_rejection));
  // Where it branches to that rejection, the other way is where it passes.
  std::string passed;
  for (const auto& [name, successors] : cfg.next)
    if (successors.size() == 2 && (successors[0] == context_rejection || successors[1] == context_rejection))
      passed = successors[0] == context_rejection ? successors[1] : successors[0];
  REQUIRE(!passed.empty());
  CHECK(!cfg.reachable("entry", {passed}).contains(capture));
}
