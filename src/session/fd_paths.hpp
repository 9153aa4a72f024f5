#pragma once
// Paths for fd identities, learnt from the opens the tracer delivers.

#include <ebpfpub/context/paths.hpp>
#include <ebpfpub/event.hpp>

namespace ebpfpub::detail {

/// When `r` is a successful open whose returned fd's identity it captured, remembers the
/// path it opened for that file: an absolute path as given, a relative one joined to the
/// path of its `dfd` when that is known and not stale. A path relative to the working
/// directory is not learnt here.
void learn_opened_path(const record_view& r, path_cache& paths);

}  // namespace ebpfpub::detail
