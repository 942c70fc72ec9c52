// SPDX-License-Identifier: Apache-2.0
#pragma once

// TlsServer: any TLS server program, described by a Spec: a name, its own
// directory, the certificate it serves, and `command(port)`, which writes
// its configuration for that port and returns argv; optionally
// `ready(server)` for more than "the port answers". start() takes a free
// port (free_port(), never the same twice in one process), starts it
// (stdout and stderr appended to DIR/output.log), and waits until a TLS
// handshake on the port presents *this* Spec's certificate. A port that
// another process's server took first is detected (foreign certificate, or
// ours ended while the port still accepts) and the start is retried on a
// new port, up to 5 times. stop(), restart(), reload() (default: restart),
// signal(); the destructor stops it. FAIL()s with the server's output when
// it cannot start.

#include "interop/harness/child.hpp"
#include "interop/harness/common.hpp"
#include "interop/harness/workspace.hpp"

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace stek::interop {

// A loopback port nothing listened on a moment ago. The same process never
// gets the same port twice, so servers of one test cannot collide; a server
// of another process can still take it first, which TlsServer detects.
std::uint16_t free_port();

// True if something accepts TCP connections on 127.0.0.1:port.
bool port_accepts(std::uint16_t port);

// What a TLS handshake with 127.0.0.1:port showed: nullopt if no
// connection or handshake; else whether the server's certificate is `cert`.
std::optional<bool> probe_tls(std::uint16_t port, const Certificate& cert,
                              const std::string& server_name);

// Any TLS server program on 127.0.0.1. See the top of this file.
class TlsServer {
public:
  struct Spec {
    std::string name{};  // for messages: "nginx", "haproxy", "go", ...
    fs::path dir{};      // its own directory: configuration and logs
    Certificate cert{};  // what it serves; the readiness probe compares it
    std::string server_name = "a.example";
    // Write whatever the server needs for `port` (under `dir`) and return
    // its argv; argv[0] is an absolute path.
    std::function<std::vector<std::string>(std::uint16_t port)> command{};
    // Called once the port serves our certificate; may wait for more (e.g.
    // a line in a log). Returns an error text, or "" when ready.
    std::function<std::string(TlsServer&)> ready{};
  };

  explicit TlsServer(Spec spec);
  TlsServer(const TlsServer&) = delete;
  TlsServer& operator=(const TlsServer&) = delete;
  virtual ~TlsServer();

  // Start on a fresh port and wait until it serves our certificate.
  void start();

  // Stop it (SIGTERM, then SIGKILL) and wait until it is gone.
  void stop() { m_child.terminate(); }

  void restart() {
    stop();
    start();
  }

  // Bring new keys into effect. Default: restart. NginxServer overrides.
  virtual void reload() { restart(); }

  void signal(int signal_number) const { m_child.signal(signal_number); }
  bool running() { return m_child.running(); }
  std::uint16_t port() const { return m_port; }
  pid_t pid() const { return m_child.pid(); }
  const fs::path& dir() const { return m_spec.dir; }
  const std::string& name() const { return m_spec.name; }
  const Certificate& cert() const { return m_spec.cert; }
  const std::string& server_name() const { return m_spec.server_name; }
  // Its stdout and stderr, all starts appended.
  fs::path output_path() const { return m_spec.dir / "output.log"; }
  std::string output() const { return read_file(output_path()); }

protected:
  static constexpr const char* k_port_taken = "port taken by another server";

  // Wait until our server answers a TLS handshake with our certificate.
  std::string wait_ready();

  void append_marker(const std::string& text) const;

  Spec m_spec;
  Child m_child;
  std::uint16_t m_port = 0;
  int m_starts = 0;
};

// `path`, REQUIRE()d to be set (found at configure time) and executable;
// `what` names the program in the message.
std::string require_program(const char* path, const char* what);

} // namespace stek::interop
