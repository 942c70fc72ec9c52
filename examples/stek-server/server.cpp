// SPDX-License-Identifier: Apache-2.0
#include "server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace stek_server {
namespace {

volatile sig_atomic_t g_stop = 0;

extern "C" void on_stop(int) { g_stop = 1; }

int listen_on(const ServeOptions& options, std::uint16_t& bound) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    std::perror("stek-server: socket");
    return -1;
  }
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(options.port);
  if (::inet_pton(AF_INET, options.host.c_str(), &address.sin_addr) != 1) {
    std::fprintf(stderr, "stek-server: error: %s is not an IPv4 address\n",
                 options.host.c_str());
    ::close(fd);
    return -1;
  }
  sockaddr generic{};
  static_assert(sizeof address >= sizeof generic);
  std::memcpy(&generic, &address, sizeof generic);
  socklen_t length = sizeof address;
  if (::bind(fd, &generic, sizeof address) != 0 || ::listen(fd, 128) != 0 ||
      ::getsockname(fd, &generic, &length) != 0) {
    std::perror("stek-server: bind/listen");
    ::close(fd);
    return -1;
  }
  std::memcpy(&address, &generic, sizeof generic);
  bound = ntohs(address.sin_port);
  return fd;
}

// Handshake, read the request head if the client sends one, answer, close
// with a close_notify: without it OpenSSL's client marks the session not
// resumable.
void serve_one(const Vhosts& vhosts, int fd, bool quiet) {
  // A stuck client cannot hold the server longer than this.
  timeval timeout{};
  timeout.tv_sec = 10;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  const std::unique_ptr<SSL, decltype(&SSL_free)> ssl(
    SSL_new(vhosts.default_context()), SSL_free);
  if (!ssl || SSL_set_fd(ssl.get(), fd) != 1 || SSL_accept(ssl.get()) != 1) {
    if (!quiet) {
      std::fprintf(stderr, "stek-server: handshake failed: %s\n",
                   ERR_reason_error_string(ERR_peek_last_error())
                     ? ERR_reason_error_string(ERR_peek_last_error())
                     : "connection closed");
    }
    ERR_clear_error();
    ::close(fd);
    return;
  }
  const char* sni = SSL_get_servername(ssl.get(), TLSEXT_NAMETYPE_host_name);
  const std::string& vhost = vhosts.vhost_of(ssl.get());
  const bool reused = SSL_session_reused(ssl.get()) == 1;
  // Read what the client sent within a moment; clients that only shake
  // hands (s_time without -www) send nothing.
  pollfd readable{fd, POLLIN, 0};
  if (SSL_pending(ssl.get()) > 0 || ::poll(&readable, 1, 50) > 0) {
    char buffer[4096];
    (void)SSL_read(ssl.get(), buffer, sizeof buffer);
  }
  const std::string body = "hello from " + vhost + " reused=" +
                           (reused ? "1" : "0") + "\n";
  const std::string response =
    "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
    std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  SSL_write(ssl.get(), response.data(), static_cast<int>(response.size()));
  SSL_shutdown(ssl.get());
  ERR_clear_error();
  ::close(fd);
  if (!quiet) {
    std::fprintf(stderr, "stek-server: conn sni=%s vhost=%s reused=%d protocol=%s\n",
                 sni ? sni : "-", vhost.c_str(), reused ? 1 : 0,
                 SSL_get_version(ssl.get()));
  }
}

} // namespace

int serve(const Vhosts& vhosts, const ServeOptions& options,
          const std::string& what) {
  ::signal(SIGPIPE, SIG_IGN);
  struct sigaction action {};
  action.sa_handler = on_stop;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);

  std::uint16_t port = 0;
  const int listener = listen_on(options, port);
  if (listener < 0) {
    return 1;
  }
  std::printf("stek-server: listening on %s:%u %s\n", options.host.c_str(),
              static_cast<unsigned>(port), what.c_str());
  std::fflush(stdout);

  unsigned long served = 0;
  while (g_stop == 0 &&
         (options.max_connections == 0 || served < options.max_connections)) {
    pollfd waiting{listener, POLLIN, 0};
    // Wake now and then to notice a stop signal that came between checks.
    const int ready = ::poll(&waiting, 1, 200);
    if (ready <= 0) {
      continue;
    }
    const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      continue;
    }
    serve_one(vhosts, fd, options.quiet);
    ++served;
  }
  ::close(listener);
  return 0;
}

} // namespace stek_server
