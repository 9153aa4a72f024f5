#include <ebpfpub/error.hpp>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace ebpfpub {

std::string_view to_string(errc code) noexcept {
  switch (code) {
    case errc::invalid_argument: return "invalid argument";
    case errc::not_found: return "not found";
    case errc::permission_denied: return "permission denied";
    case errc::unsupported: return "unsupported";
    case errc::malformed_input: return "malformed input";
    case errc::mismatch: return "mismatch";
    case errc::verifier_rejected: return "verifier rejected";
    case errc::exhausted: return "exhausted";
    case errc::system: return "system error";
    case errc::internal: return "internal error";
  }
  return "unknown error";
}

std::string error::what() const { return fmt::format("{}: {}", to_string(code_), message_); }

error error::from_errno(int errnum, std::string_view context) {
  const errc code = (errnum == EPERM || errnum == EACCES) ? errc::permission_denied
                    : (errnum == ENOENT)                  ? errc::not_found
                                                          : errc::system;
  return error(code, fmt::format("{}: {}", context, std::strerror(errnum)));
}

}  // namespace ebpfpub
