#include "session/session.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include <ebpfpub/record.hpp>

#include "codegen/codegen.hpp"
#include "session/kernel_facts.hpp"

namespace ebpfpub::detail {

using clock = std::chrono::steady_clock;

session::session(tracer_options options, ebpfpub::tracefs fs)
    : options_(std::move(options)), fs_(std::move(fs)) {
  deliveries_.resolve_context(!options_.context.empty());
  // Summary mode sends nothing: the smallest output buffer the reader still opens.
  if (options_.summary) options_.resources.output_pages_log2 = 0;
}

session::~session() = default;

expected<void> session::add(plan p, deliveries::handler handler) {
  // The maps are sized for the plans they were made for.
  if (started_ || maps_)
    return error(errc::invalid_argument,
                 fmt::format("tracer: cannot add {} after {}; add every syscall first", p.syscall.name,
                             started_ ? "start()" : "prepare()"));
  for (const auto& existing : plans())
    if (existing.syscall.name == p.syscall.name)
      return error(errc::invalid_argument, fmt::format("tracer: {} is already traced", p.syscall.name));
  if (auto ok = check_plan(p); !ok) return ok;
  if (options_.summary) {
    // Counting needs no capture: the in-flight entry shrinks to the header, in the one
    // shared map.
    p.captures.clear();
    p.private_storage = false;
  }
  deliveries_.add(std::move(p), std::move(handler));
  return {};
}

expected<void> session::add_filter(std::string_view text) {
  // The programs are generated from the filters at start().
  if (started_) return error(errc::invalid_argument, "tracer: cannot add a filter after start()");
  auto added = filters_.add(text, plans(), options_.context);
  if (!added && options_.summary)
    // Summary mode captures nothing and reads no context: only numbers can be tested.
    return error(added.error().code(),
                 fmt::format("{}\n(tracer_options::summary captures nothing: a filter there tests the header "
                             "fields, the arguments' values and exit_code)", added.error().message()));
  return added;
}

expected<void> session::prepare() {
  auto faults = injected_faults::from_environment();
  return prepare(faults);
}

expected<void> session::prepare(injected_faults& faults) {
  if (maps_) return {};
  if (plans().empty()) return error(errc::invalid_argument, "tracer: nothing to trace; call trace() first");
  if (plans().size() > 0xffff) return error(errc::invalid_argument, "tracer: more than 65535 syscalls");
  const auto& res = options_.resources;
  if (res.output_pages_log2 > 16)
    return error(errc::invalid_argument,
                 fmt::format("resources.output_pages_log2 is {}: 2^{} pages per CPU is too large "
                             "(at most 16)", res.output_pages_log2, res.output_pages_log2));
  if (options_.summary && !options_.context.empty())
    return error(errc::invalid_argument, "tracer: context has no effect in summary mode, which sends no "
                                         "event; leave tracer_options::context empty");
  if (options_.summary && options_.capture.fd_identity)
    return error(errc::invalid_argument, "tracer: fd identities have no effect in summary mode, which "
                                         "sends no event; leave tracer_options::capture.fd_identity off");
  if (options_.summary && options_.capture.resolve_paths)
    return error(errc::invalid_argument, "tracer: resolved paths have no effect in summary mode, which "
                                         "sends no event; leave tracer_options::capture.resolve_paths off");
  // BTF offsets first: a kernel that lacks one fails before any map exists.
  auto context = context_layout_for(options_.context);
  if (!context) return context.error();
  auto sizes = size_maps(plans(), res, context_bytes());
  auto maps = session_maps::create(plans(), sizes, res, options_.filter, fs_, faults);
  if (!maps) return maps.error();
  std::optional<summary_maps> counting;
  if (options_.summary) {
    auto made = summary_maps::create(plans().size(), faults);
    if (!made) return made.error();
    counting = std::move(*made);
  }
  sizes_ = std::move(sizes);
  maps_ = std::move(*maps);
  context_ = *context;
  summary_maps_ = std::move(counting);
  return {};
}

expected<void> session::add_process(std::uint32_t pid) {
  if (!maps_)
    return error(errc::invalid_argument, "tracer: add_process needs a process filter "
                                         "(filter.process_ids) from the start");
  return maps_->add_process(pid);
}

expected<startup_report> session::start() {
  if (started_) return error(errc::invalid_argument, "tracer: start() was already called");
  auto faults = injected_faults::from_environment();
  startup_report report;
  const auto t0 = clock::now();
  const bool had_maps = maps_.has_value();
  if (auto ok = prepare(faults); !ok) return ok.error();
  report.prepare = clock::now() - t0;
  auto started = start_programs(faults, report);
  // Maps made by this call go with it; maps from an earlier prepare() stay, as they were.
  if (!started && !had_maps) {
    summary_maps_.reset();
    maps_.reset();
    sizes_.reset();
  }
  return started;
}

expected<startup_report> session::start_programs(injected_faults& faults, startup_report report) {
  const auto& res = options_.resources;
  const auto t0 = clock::now();
  codegen_options codegen;
  codegen.exec = exec_layout_for(plans());
  auto fd = fd_layout_for(plans());
  if (!fd) return fd.error();
  codegen.fd = *fd;

  codegen.context = context_;
  codegen.output = res.output;
  codegen.write = ring_write_for_tests(res.write);
  codegen.filter = maps_->filter();
  codegen.self_tgid = options_.exclude_self ? static_cast<std::uint32_t>(::getpid()) : 0;
  codegen.wakeup_bytes = sizes_->output_map / 4;
  codegen.keep_ir = options_.keep_ir;
  // Summary programs read the result where the syscall's own exit tracepoint puts it:
  // summary mode attaches per syscall.
  if (summary_maps_ && options_.attach == attach_mode::dispatch)
    return error(errc::invalid_argument,
                 "tracer_options::attach: summary mode attaches per syscall; use attach_mode::tracepoints "
                 "or attach_mode::automatic with tracer_options::summary");
  const auto mode = summary_maps_ ? attach_mode::tracepoints : attach_mode_for_tests(options_.attach);
  auto dispatch = resolve_dispatch(mode, plans());
  if (!dispatch) return dispatch.error();
  std::optional<dispatch_tables> tables;
  if (*dispatch) {
    auto made = dispatch_tables::create(codegen.dispatch, plans(), faults);
    if (!made) return made.error();
    tables = std::move(*made);
  }
  auto expressions = filters_.for_plans(plans(), options_.context);
  if (!expressions) return expressions.error();
  auto paths = path_layout_for(plans(), filters_.fd_path_scratch_fd() >= 0);
  if (!paths) return paths.error();
  codegen.paths = *paths;
  codegen.fd_path_scratch_fd = filters_.fd_path_scratch_fd();
  auto program_maps = maps_->programs();
  if (summary_maps_) {
    codegen.summary = true;
    program_maps.summary_fd = summary_maps_->counters_fd();
    program_maps.errno_fd = summary_maps_->errno_fd();
  }
  codegen.expressions = std::move(*expressions);
  auto code = generate_programs(plans(), program_maps, codegen);
  if (!code) return code.error();
  report.generate = clock::now() - t0;

  auto programs = session_programs::load(code->programs, maps_->tracepoints(), std::move(tables), faults,
                                         report.load, report.attach);
  if (!programs) return programs.error();
  auto opened = reader::open(maps_->output_fd(), res, *sizes_, deliveries_);
  if (!opened) return opened.error();  // `programs` detaches as it goes

  // After attaching: a file opened from here on is seen opening.
  if (options_.path_cache_size > 0 && codegen.fd.needed)
    deliveries_.keep_paths(options_.path_cache_size).seed_from_proc();
  report.programs = programs->size();
  report.attached = *dispatch ? attach_mode::dispatch : attach_mode::tracepoints;
  programs_ = std::move(*programs);
  reader_ = std::move(*opened);
  ir_ = std::move(code->ir);
  started_ = true;
  return report;
}

expected<std::size_t> session::poll(std::chrono::milliseconds timeout) {
  if (!started_) return error(errc::invalid_argument, "tracer: poll() before start()");
  deliveries_.reset_delivered();
  const int ms = static_cast<int>(std::min<std::int64_t>(timeout.count(), INT32_MAX));
  if (auto ok = reader_->poll(ms); !ok) return ok.error();
  return deliveries_.delivered();
}

std::uint32_t session::context_bytes() const {
  return options_.context.empty() ? 0 : record::capture_header_size + record::context_size;
}

void session::stop() { programs_ = session_programs{}; }

statistics session::stats() const {
  if (!maps_) return deliveries_.stats(-1);
  return deliveries_.stats(maps_->counters_fd(), maps_->rate_limit_fd());
}

expected<ebpfpub::summary_report> session::summary() const {
  if (!options_.summary)
    return error(errc::invalid_argument, "tracer: summary() needs summary mode; set tracer_options::summary");
  if (summary_maps_) return summary_maps_->read(plans());
  // Not prepared yet: nothing counted, every syscall at zero.
  ebpfpub::summary_report zeros;
  for (const auto& p : plans()) zeros.by_syscall.push_back({.name = p.syscall.name});
  return zeros;
}

memory_usage session::memory() const {
  const auto& res = options_.resources;
  auto m = planned_memory(plans(), sizes_ ? *sizes_ : size_maps(plans(), res, context_bytes()), res);
  if (options_.summary) m.summary_bytes = summary_maps::planned_bytes(plans().size());
  if (maps_) maps_->measure(m, res.output);
  if (summary_maps_) m.summary_bytes = summary_maps_->measured_bytes();
  m.filter_set_bytes = filters_.set_map_bytes(plans(), options_.context);
  m.path_scratch_bytes = filters_.path_scratch_bytes(plans(), options_.context);
  return m;
}

}  // namespace ebpfpub::detail
