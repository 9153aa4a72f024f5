#pragma once
/// \file
/// One type per syscall of the build architecture (see signature.hpp), generated from
/// tracepoint formats by tools/generate_signatures.

#if defined(__x86_64__)
#include <ebpfpub/syscalls/x86_64.hpp>
#else
#error "ebpfpub: no syscall table for this architecture yet; generate one with tools/generate_signatures (docs/signatures.md)"
#endif
