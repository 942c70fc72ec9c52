// SPDX-License-Identifier: Apache-2.0
#include "server.hpp"

#include "ticket_trace.hpp"

#include <openssl/err.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>

#include <string>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>

namespace stek_server {
namespace {

// How long one connection may take to send anything: connections are
// served one at a time, so a client that stalls mid-handshake must not hold
// the server for longer than this.
constexpr time_t k_io_timeout_seconds = 10;

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
  // sockaddr_in and sockaddr are the same bytes; copying avoids a cast
  // that breaks strict aliasing.
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

void log_failed_handshake() {
  const char* reason = ERR_reason_error_string(ERR_peek_last_error());
  std::fprintf(stderr, "stek-server: handshake failed: %s\n",
               reason ? reason : "connection closed");
}

// Read the request head: until its blank line, until the client closes
// (s_time without -www only shakes hands and closes), or until it has been
// silent for a second. Answering before a slow request arrived would close
// the connection under it, and the client would see a reset.
void read_request(SSL* ssl, int fd) {
  std::string head;
  char buffer[4096];
  while (head.find("\r\n\r\n") == std::string::npos &&
         head.find("\n\n") == std::string::npos && head.size() < 65536) {
    pollfd readable{fd, POLLIN, 0};
    if (SSL_pending(ssl) == 0 && ::poll(&readable, 1, 1000) <= 0) {
      return;
    }
    const int n = SSL_read(ssl, buffer, sizeof buffer);
    if (n <= 0) {
      return;
    }
    head.append(buffer, static_cast<std::size_t>(n));
  }
}

// Handshake, answer with which vhost and ticket key served it, close with
// a close_notify: without it OpenSSL's client marks the session not
// resumable.
void serve_one(const Vhosts& vhosts, int fd, bool quiet) {
  timeval timeout{};
  timeout.tv_sec = k_io_timeout_seconds;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  auto& trace = TicketTrace::current();
  trace = TicketTrace{};
  const std::unique_ptr<SSL, decltype(&SSL_free)> ssl(
    SSL_new(vhosts.default_context()), SSL_free);
  // SSL_accept returns after the server's NewSessionTicket (TLS 1.3
  // included), so the trace is complete here.
  if (!ssl || SSL_set_fd(ssl.get(), fd) != 1 || SSL_accept(ssl.get()) != 1) {
    if (!quiet) {
      log_failed_handshake();
    }
    ERR_clear_error();
    ::close(fd);
    return;
  }
  const char* sni = SSL_get_servername(ssl.get(), TLSEXT_NAMETYPE_host_name);
  const std::string& vhost = vhosts.vhost_of(ssl.get());
  const bool reused = SSL_session_reused(ssl.get()) == 1;
  read_request(ssl.get(), fd);
  const std::string body = "hello from " + vhost + " reused=" +
                           (reused ? "1" : "0") +
                           " key=" + trace.used_key(reused) + "\n";
  const std::string response =
    "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
    std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  // Logged before the answer, so that a client holding its answer finds
  // the line already written (tests read it right after the handshake).
  if (!quiet) {
    const auto id = [](const std::optional<stek::KeyId>& key) {
      return key ? key->hex() : std::string("-");
    };
    std::fprintf(stderr,
                 "stek-server: conn sni=%s vhost=%s reused=%d protocol=%s "
                 "resumed_with=%s issued=%s\n",
                 sni ? sni : "-", vhost.c_str(), reused ? 1 : 0,
                 SSL_get_version(ssl.get()),
                 reused ? id(trace.decrypted).c_str() : "-",
                 id(trace.issued).c_str());
  }
  // OpenSSL forbids SSL_shutdown after a fatal error, such as a write to a
  // client that went away.
  if (SSL_write(ssl.get(), response.data(), static_cast<int>(response.size())) > 0) {
    SSL_shutdown(ssl.get());
  }
  ERR_clear_error();
  ::close(fd);
}

} // namespace

int serve(const Vhosts& vhosts, const ServeOptions& options,
          const std::string& what) {
  // A client that hangs up early must cost an error return, not the
  // process.
  ::signal(SIGPIPE, SIG_IGN);
  // No SA_RESTART: the signal interrupts poll() and the loop ends.
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
