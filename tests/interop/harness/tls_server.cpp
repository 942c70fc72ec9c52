// SPDX-License-Identifier: Apache-2.0
#include "interop/harness/tls_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>

namespace stek::interop {

std::uint16_t free_port() {
  static std::set<std::uint16_t> handed_out;
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    const bool ok =
      ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
    ::close(fd);
    if (!ok) {
      continue;
    }
    const std::uint16_t port = ntohs(addr.sin_port);
    if (handed_out.insert(port).second) {
      return port;
    }
  }
  throw std::runtime_error("no free loopback port");
}

bool port_accepts(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

std::optional<bool> probe_tls(std::uint16_t port, const Certificate& cert,
                              const std::string& server_name) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return std::nullopt;
  }
  timeval tv{};
  tv.tv_sec = 5;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  SslPtr ssl(ctx ? SSL_new(ctx.get()) : nullptr);
  std::optional<bool> result;
  if (ssl && SSL_set_fd(ssl.get(), fd) == 1 &&
      // SSL_set_tlsext_host_name, without the macro's C cast.
      SSL_ctrl(ssl.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(server_name.c_str())) == 1 &&
      SSL_connect(ssl.get()) == 1) {
    X509Ptr peer(SSL_get1_peer_certificate(ssl.get()));
    Bytes der;
    if (peer) {
      const int len = i2d_X509(peer.get(), nullptr);
      der.resize(static_cast<std::size_t>(std::max(len, 0)));
      auto* p = reinterpret_cast<unsigned char*>(der.data());
      i2d_X509(peer.get(), &p);
    }
    result = der == cert.der;
    SSL_shutdown(ssl.get());
  }
  ERR_clear_error();
  ssl.reset();
  ::close(fd);
  return result;
}

TlsServer::TlsServer(Spec spec) : m_spec(std::move(spec)) {
  fs::create_directories(m_spec.dir);
}

TlsServer::~TlsServer() = default;

void TlsServer::start() {
  REQUIRE_MESSAGE(!m_child.running(), m_spec.name << " already runs");
  std::string why;
  for (int attempt = 1; attempt <= 5; ++attempt) {
    m_port = free_port();
    const auto argv = m_spec.command(m_port);
    ++m_starts;
    ChildOptions options;
    options.stdout_file = output_path();
    options.stderr_file = output_path();
    options.cwd = m_spec.dir;
    append_marker("start " + std::to_string(m_starts) + " on port " +
                  std::to_string(m_port));
    m_child = Child::spawn(argv, options);
    why = wait_ready();
    if (why.empty()) {
      return;
    }
    m_child.terminate();
    if (why != k_port_taken) {
      break;
    }
  }
  FAIL(m_spec.name << " did not start: " << why << "\n--- its output ("
                   << output_path().string() << ") ---\n"
                   << output());
}

std::string TlsServer::wait_ready() {
  const auto deadline = Clock::now() + k_start_timeout;
  auto pause = 5ms;
  bool foreign = false;
  while (Clock::now() < deadline) {
    if (!m_child.running()) {
      // Ended: because another process holds the port (it still
      // accepts), or for a reason of its own (see its logs).
      if (foreign || port_accepts(m_port)) {
        return k_port_taken;
      }
      return "it ended (" + m_child.describe_status() + ")";
    }
    if (const auto ours = probe_tls(m_port, m_spec.cert, m_spec.server_name)) {
      if (*ours) {
        return m_spec.ready ? m_spec.ready(*this) : std::string();
      }
      // Another process's server holds the port: ours will fail to bind.
      foreign = true;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
  return foreign ? k_port_taken : "timed out waiting for port " + std::to_string(m_port);
}

void TlsServer::append_marker(const std::string& text) const {
  const int fd =
    ::open(output_path().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd >= 0) {
    const std::string line = "### " + text + "\n";
    [[maybe_unused]] const auto n = ::write(fd, line.data(), line.size());
    ::close(fd);
  }
}

std::string require_program(const char* path, const char* what) {
  REQUIRE_MESSAGE(std::string(path) != "",
                  what << " was not found when the build was configured");
  REQUIRE_MESSAGE(::access(path, X_OK) == 0, what << " is not executable: " << path);
  return path;
}

} // namespace stek::interop
