// SPDX-License-Identifier: Apache-2.0
#pragma once

// The Debian servers as TlsServers:
// - NginxServer: nginx 1.22 with one server block (NginxSite: an include
//   such as stekctl's ssl_session_tickets.conf, and/or key files, extra
//   directives, more server blocks on the same listener); pid, logs and
//   temp paths all in its directory (`-p`, `-e`). reload() rewrites the
//   config, sends SIGHUP and waits until new workers started and the old
//   ones exited; a configuration nginx refuses fails the test.
// - HaproxyServer: HAProxy 2.6 in the foreground (-db), `bind ... ssl crt
//   CERT+KEY tls-ticket-keys FILE`, `noreuseport`; reload() restarts it
//   (HAProxy reads the key file at start-up).
//
// The paths of the programs come from CMake (STEK_INTEROP_NGINX,
// STEK_INTEROP_HAPROXY, compiled into servers.cpp); an empty one means it
// was not found at configure time, and the tests that need it fail saying
// so.

#include "interop/harness/common.hpp"
#include "interop/harness/tls_server.hpp"
#include "interop/harness/workspace.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace stek::interop {

// nginx 1.22, one http server block on 127.0.0.1:<port> with TLS 1.2 and 1.3,
// answering every request with 200 "ok". Everything (config, pid, logs,
// temp dirs) lives under its directory; `-e` keeps even the early error log
// there.
struct NginxSite {
  // A file included in the server block: stekctl's ssl_session_tickets.conf.
  fs::path include{};
  // ssl_session_ticket_key files written as directives, in this order,
  // after the include (the first directive overall encrypts).
  std::vector<fs::path> ticket_keys{};
  // More directives for the server block.
  std::string extra{};
  // More server blocks on the same listener (same port and certificate),
  // after the first, which is the listener's default server.
  struct Host {
    std::string server_name{};
    fs::path include{};
  };
  std::vector<Host> more_hosts{};
};

class NginxServer : public TlsServer {
public:
  NginxServer(const fs::path& dir, const Certificate& cert, NginxSite site,
              std::string server_name = "a.example");

  NginxSite& site() { return m_site; }
  fs::path error_log() const { return dir() / "error.log"; }

  // nginx -s reload: SIGHUP; then wait until the master started new workers
  // and every old worker exited, so the next connection sees the new keys.
  // A configuration nginx refuses fails the test.
  void reload() override;

private:
  static bool contains(std::string_view text, std::string_view part);
  static std::vector<std::string> workers_started(const std::string& log);

  // Static: it runs before the base class exists; the functions it returns
  // run only from start(), when `self` is whole.
  static Spec make_spec(NginxServer* self, const fs::path& dir, const Certificate& cert,
                        std::string server_name);

  void write_config(std::uint16_t port) const;

  NginxSite m_site;
};

// HAProxy 2.6 in the foreground (-db), one frontend on 127.0.0.1:<port>
// with `ssl crt <cert+key> tls-ticket-keys <file>`, answering 200 "ok".
// `noreuseport` keeps it from sharing a port with another test's server.
// reload() restarts it (on a new port): HAProxy reads the key file only at
// start-up.
class HaproxyServer : public TlsServer {
public:
  HaproxyServer(const fs::path& dir, const Certificate& cert, fs::path ticket_keys,
                std::string server_name = "a.example");

  fs::path& ticket_keys() { return m_ticket_keys; }

private:
  // Static for the reason given at NginxServer::make_spec.
  static Spec make_spec(HaproxyServer* self, const fs::path& dir, const Certificate& cert,
                        std::string server_name);

  fs::path m_ticket_keys;
};

} // namespace stek::interop
