// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stek/result.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>

namespace stek::detail {

// Return Errc::io (or Errc::permission for EACCES/EPERM) saying that
// `operation` on `path` failed with `error`.
inline Error system_error(std::string_view operation,
                          const std::filesystem::path& path,
                          int error) {
  const Errc code =
    (error == EACCES || error == EPERM) ? Errc::permission : Errc::io;
  return fail(code,
              std::string(operation) + " failed: " + std::strerror(error) +
                " (" + path.string() + ")");
}

} // namespace stek::detail
