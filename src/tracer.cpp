// The tracer's public face: each call goes to the session (src/session), which owns the
// kernel objects; the by-name trace() chooses a serializer here.

#include <ebpfpub/tracer.hpp>

#include <optional>

#include <fmt/format.h>

#include "kernel/kernel.hpp"
#include "session/session.hpp"

namespace ebpfpub {

tracer::tracer(std::unique_ptr<detail::session> impl) : impl_(std::move(impl)) {}
tracer::tracer(tracer&&) noexcept = default;
tracer& tracer::operator=(tracer&&) noexcept = default;
tracer::~tracer() = default;

expected<tracer> tracer::create(tracer_options options) {
  const auto& res = options.resources;
  if (res.buffer_size == 0 || res.buffer_size > 32768)
    return error(errc::invalid_argument,
                 fmt::format("resources.buffer_size is {}: it must be 1..32768 bytes", res.buffer_size));
  if (res.buffer_count == 0 || res.buffer_count > 64)
    return error(errc::invalid_argument,
                 fmt::format("resources.buffer_count is {}: it must be 1..64", res.buffer_count));
  if (auto bpf = detail::check_bpf_access(); !bpf) return bpf.error();
  auto fs = tracefs::open(options.tracefs_options);
  if (!fs) return fs.error();
  return tracer(std::make_unique<detail::session>(std::move(options), std::move(*fs)));
}

plan_options tracer::current_plan_options() const {
  plan_options o = impl_->options().capture;
  o.string_size = impl_->options().resources.buffer_size;
  return o;
}

expected<void> tracer::check_signature(std::string_view name, std::span<const argument_layout> layout) {
  auto enter = impl_->fs().syscall_format(name, syscall_phase::enter);
  if (!enter) return enter.error();
  auto exit = impl_->fs().syscall_format(name, syscall_phase::exit);
  if (!exit) return exit.error();
  return validate(name, layout, *enter, *exit);
}

expected<void> tracer::add(plan p, std::function<void(const record_view&)> handler) {
  return impl_->add(std::move(p), std::move(handler));
}

expected<void> tracer::trace(std::string_view syscall, std::function<void(const dynamic_event&)> handler) {
  // A registered serializer first (the user's), then ebpfpub's own, then the generic one.
  auto chosen = find_serializer(syscall);
  if (!chosen) {
    serializers::specialized::for_each([&]<typename S>() {
      if (!chosen && S::name == syscall) chosen = make_registration<S>();
    });
  }
  if (chosen) {
    if (auto checked = check_signature(chosen->syscall, chosen->layout); !checked) return checked;
    auto p = chosen->make_plan(current_plan_options());
    if (!p) return p.error();
    return add(std::move(*p), [decode = std::move(chosen->decode), handler = std::move(handler)](
                                  const record_view& r) { handler(decode(r)); });
  }
  auto description = describe_syscall(impl_->fs(), syscall);
  if (!description) return description.error();
  return add(make_generic_plan(std::move(*description), current_plan_options()),
             [handler = std::move(handler)](const record_view& r) { handler(decode_dynamic(r)); });
}

expected<void> tracer::prepare() { return impl_->prepare(); }
expected<startup_report> tracer::start() { return impl_->start(); }
expected<void> tracer::add_process(std::uint32_t pid) { return impl_->add_process(pid); }
expected<std::size_t> tracer::poll(std::chrono::milliseconds timeout) { return impl_->poll(timeout); }

expected<void> tracer::run_until(const std::atomic<bool>& stop, std::chrono::milliseconds interval) {
  while (!stop.load(std::memory_order_relaxed)) {
    auto n = poll(interval);
    if (!n) return n.error();
  }
  // What the programs sent before stop was set.
  auto n = poll(std::chrono::milliseconds(0));
  if (!n) return n.error();
  return {};
}

void tracer::stop() { impl_->stop(); }
statistics tracer::stats() const { return impl_->stats(); }
expected<summary_report> tracer::summary() const { return impl_->summary(); }
memory_usage tracer::memory() const { return impl_->memory(); }
const std::vector<plan>& tracer::plans() const { return impl_->plans(); }
const std::string& tracer::ir() const { return impl_->ir(); }
expected<std::vector<std::string>> tracer::available_syscalls() const { return impl_->fs().syscall_names(); }

}  // namespace ebpfpub
