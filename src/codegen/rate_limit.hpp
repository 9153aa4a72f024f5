#pragma once
// The per-process, per-syscall rate limit: a token bucket in an LRU hash map keyed by
// {tgid, plan index}, checked at enter before any in-flight entry or output space is
// taken, so a flooding process costs the others nothing but the check.

#include <span>

#include "codegen/rate_bucket.hpp"
#include "codegen/skeleton.hpp"

namespace ebpfpub::detail {

/// At enter, when options.filter has a rate limit: takes one token from the calling
/// process's bucket for `t`, or counts the call as rate-limited and ends the program.
void emit_rate_limit(program& p, const target& t);

/// At exit, where no in-flight entry matched: when the call was one the rate limit
/// dropped (a bucket of one of `targets` has a pending exit), takes that back and ends
/// the program; otherwise continues, to count an unmatched exit.
void emit_rate_limited_exit(program& p, std::span<const target> targets);

}  // namespace ebpfpub::detail
