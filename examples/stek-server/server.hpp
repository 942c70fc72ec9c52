// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vhosts.hpp"

#include <cstdint>
#include <string>

namespace stek_server {

struct ServeOptions {
  std::string host = "127.0.0.1";
  // 0: let the kernel pick one; the "listening on" line names it.
  std::uint16_t port = 0;
  // Stop after this many connections; 0 serves until SIGTERM or SIGINT.
  unsigned long max_connections = 0;
  bool quiet = false;
};

// Listen and serve connections one at a time until told to stop. Prints
// "stek-server: listening on HOST:PORT <what>" to stdout once it accepts.
// Returns the exit status.
int serve(const Vhosts& vhosts, const ServeOptions& options,
          const std::string& what);

} // namespace stek_server
