#pragma once
/// \file
/// Every serializer specialization ebpfpub ships, and the list of their syscalls (the
/// by-name path uses it to pick a specialization over the generic serializer).

#include <ebpfpub/serializers/descriptors.hpp>
#include <ebpfpub/serializers/io.hpp>
#include <ebpfpub/serializers/network.hpp>
#include <ebpfpub/serializers/open.hpp>
#include <ebpfpub/serializers/process.hpp>

namespace ebpfpub::serializers {

using specialized = type_list<
    syscalls::execve, syscalls::execveat, syscalls::clone, syscalls::clone3, syscalls::fork,
    syscalls::vfork, syscalls::exit, syscalls::exit_group,
    syscalls::connect, syscalls::bind, syscalls::accept, syscalls::accept4, syscalls::getsockname,
    syscalls::getpeername, syscalls::sendto, syscalls::recvfrom, syscalls::sendmsg,
    syscalls::recvmsg, syscalls::socket,
    syscalls::read, syscalls::write, syscalls::pread64, syscalls::pwrite64,
    syscalls::pipe, syscalls::pipe2, syscalls::socketpair,
    syscalls::openat2, syscalls::open, syscalls::openat, syscalls::creat>;

}  // namespace ebpfpub::serializers
