#pragma once
/// \file
/// Process serializers: execve and execveat with their argv (envp on request), clone3
/// with its clone_args, and clone, fork, vfork, exit, exit_group under the name
/// "process" (their flags, status and new id are plain values).

#include <boost/hana/define_struct.hpp>

#include <ebpfpub/serializer.hpp>
#include <ebpfpub/serializers/helpers.hpp>
#include <ebpfpub/syscalls.hpp>

namespace ebpfpub {

namespace serializers {
/// argv or envp at enter: gone by exit (the new image replaced it).
inline capture string_array(std::uint8_t argument, const plan_options& o, exec_image image) {
  return {.argument = argument, .op = capture_op::string_array, .when = syscall_phase::enter,
          .max_bytes = o.argv_size, .max_items = o.argv_items, .image = image};
}

template <syscall_signature S, std::uint8_t Argv>
struct exec {
  static constexpr std::string_view name = "execve";
  using args_type = typename S::arguments;
  static plan make_plan(const plan_options& o) {
    plan p = generic_plan<S>(name, o);
    // Room for argv in every thread's entry would be waste: execve gets its own.
    p.private_storage = true;
    // A path or argv the caller has not touched since fork (a string literal) cannot be
    // read at enter; after a successful exec the new image holds the same bytes.
    // The path is gone with the old image by exit: it is read at enter.
    for (auto& c : p.captures)
      if (c.argument == Argv - 1) {
        c.image = exec_image::filename;
        c.readable_at_exit = false;
      }
    p.captures.push_back(string_array(Argv, o, exec_image::argv));
    if (S::name == std::string_view("execveat")) p.exit_aliases.push_back("execve");
    if (o.capture_envp) p.captures.push_back(string_array(Argv + 1, o, exec_image::envp));
    return p;
  }
  static args_type decode(const record_view& r) { return decode_members<args_type>(r); }
};
}  // namespace serializers

template <>
struct serializer<syscalls::execve> : serializers::exec<syscalls::execve, 1> {};
template <>
struct serializer<syscalls::execveat> : serializers::exec<syscalls::execveat, 2> {};

/// clone3(struct clone_args *uargs, size_t size)
template <>
struct serializer<syscalls::clone3> {
  static constexpr std::string_view name = "clone3";
  struct args_type {
    BOOST_HANA_DEFINE_STRUCT(args_type, (::ebpfpub::clone_args, uargs), (std::uint64_t, size));
  };
  static plan make_plan(const plan_options& o) {
    plan p = serializers::generic_plan<syscalls::clone3>(name, o);
    // flags .. exit_signal: the first 40 bytes (every clone_args has at least 64).
    p.captures.push_back(serializers::bytes(0, syscall_phase::enter, length_source::fixed, 0, 40));
    return p;
  }
  static args_type decode(const record_view& r) { return decode_members<args_type>(r); }
};

#define EBPFPUB_PROCESS_SERIALIZER(syscall)                                          \
  template <>                                                                        \
  struct serializer<syscalls::syscall>                                               \
      : serializers::generic_as<syscalls::syscall, serializer<syscalls::syscall>> { \
    static constexpr std::string_view name = "process";                              \
  };
EBPFPUB_PROCESS_SERIALIZER(clone)
EBPFPUB_PROCESS_SERIALIZER(fork)
EBPFPUB_PROCESS_SERIALIZER(vfork)
#undef EBPFPUB_PROCESS_SERIALIZER

namespace serializers {
/// exit and exit_group never reach their exit tracepoint: the event is sent at enter.
template <syscall_signature S>
struct process_end : generic_as<S, process_end<S>> {
  static constexpr std::string_view name = "process";
  static plan make_plan(const plan_options& o) {
    plan p = generic_plan<S>(name, o);
    p.emit_at_enter = true;
    return p;
  }
};
}  // namespace serializers

template <> struct serializer<syscalls::exit> : serializers::process_end<syscalls::exit> {};
template <> struct serializer<syscalls::exit_group> : serializers::process_end<syscalls::exit_group> {};

}  // namespace ebpfpub
