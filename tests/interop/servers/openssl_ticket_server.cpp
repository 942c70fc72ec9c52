// SPDX-License-Identifier: Apache-2.0
// openssl_ticket_server: the plain-OpenSSL server of the interop tests. It
// loads one 80-byte key file in stekctl's `openssl` format (name 0-15 | HMAC
// key 16-47 | AES key 48-79) with SSL_CTX_set_tlsext_ticket_keys, serves TLS
// 1.2 and 1.3 on a loopback port and answers each connection with a short
// HTTP/1.0 response, so `openssl s_client -ign_eof` with a request also
// collects the TLS 1.3 tickets. SIGHUP re-reads the key file; SIGTERM ends
// it (the default action). It prints "listening" once it accepts
// connections and "reloaded" after each reload.
//
// Usage: openssl_ticket_server -listen 127.0.0.1:PORT -cert CERT -key KEY
//                              -keys FILE
//
// Connections are served one at a time: the tests connect one client at a
// time, and a blocked client is cut off by a 30 s socket timeout.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::size_t k_key_file_size = 80;
// The session-id context: OpenSSL refuses to resume a session whose context
// differs from the server's, so it is fixed rather than left empty.
constexpr std::string_view k_session_id_context = "stekctl-openssl-test";

volatile sig_atomic_t g_reload = 0;

extern "C" void on_sighup(int) { g_reload = 1; }

void print_ssl_errors(const char* what) {
  std::fprintf(stderr, "%s:", what);
  unsigned long code = 0;
  while ((code = ERR_get_error()) != 0) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    std::fprintf(stderr, " %s", text);
  }
  std::fprintf(stderr, "\n");
}

// Return the contents of `path`, or nullopt with a message on stderr.
std::optional<std::vector<unsigned char>> read_key_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "%s: cannot open\n", path.c_str());
    return std::nullopt;
  }
  std::vector<unsigned char> bytes{std::istreambuf_iterator<char>(in),
                                   std::istreambuf_iterator<char>()};
  if (bytes.size() != k_key_file_size) {
    std::fprintf(stderr, "%s: %zu bytes, want %zu\n", path.c_str(), bytes.size(),
                 k_key_file_size);
    return std::nullopt;
  }
  return bytes;
}

bool load_ticket_keys(SSL_CTX* ctx, const std::string& path) {
  auto bytes = read_key_file(path);
  if (!bytes) {
    return false;
  }
  // SSL_CTX_set_tlsext_ticket_keys, without the macro's C-style cast.
  const long ok = SSL_CTX_ctrl(ctx, SSL_CTRL_SET_TLSEXT_TICKET_KEYS,
                               static_cast<long>(bytes->size()), bytes->data());
  OPENSSL_cleanse(bytes->data(), bytes->size());
  if (ok != 1) {
    print_ssl_errors("SSL_CTX_set_tlsext_ticket_keys");
    return false;
  }
  return true;
}

struct Options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string cert;
  std::string key;
  std::string keys;
};

std::optional<Options> parse_options(int argc, char** argv) {
  Options options;
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i + 1 < args.size(); i += 2) {
    const std::string_view flag = args[i];
    const std::string value(args[i + 1]);
    if (flag == "-listen" || flag == "--listen") {
      const auto colon = value.rfind(':');
      if (colon == std::string::npos) {
        return std::nullopt;
      }
      options.host = value.substr(0, colon);
      const long port = std::strtol(value.c_str() + colon + 1, nullptr, 10);
      if (port < 0 || port > 65535) {
        return std::nullopt;
      }
      options.port = static_cast<std::uint16_t>(port);
    } else if (flag == "-cert" || flag == "--cert") {
      options.cert = value;
    } else if (flag == "-key" || flag == "--key") {
      options.key = value;
    } else if (flag == "-keys" || flag == "--keys") {
      options.keys = value;
    } else {
      return std::nullopt;
    }
  }
  if (args.size() % 2 != 0 || options.cert.empty() || options.key.empty() ||
      options.keys.empty()) {
    return std::nullopt;
  }
  return options;
}

int listen_on(const Options& options) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    std::perror("socket");
    return -1;
  }
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(options.port);
  if (::inet_pton(AF_INET, options.host.c_str(), &address.sin_addr) != 1) {
    std::fprintf(stderr, "%s: not an IPv4 address\n", options.host.c_str());
    ::close(fd);
    return -1;
  }
  // sockaddr_in is passed as the sockaddr the socket API takes.
  sockaddr generic{};
  static_assert(sizeof address >= sizeof generic);
  std::memcpy(&generic, &address, sizeof generic);
  if (::bind(fd, &generic, sizeof address) != 0 || ::listen(fd, 64) != 0) {
    std::perror("bind/listen");
    ::close(fd);
    return -1;
  }
  return fd;
}

std::uint16_t bound_port(int fd) {
  sockaddr_in address{};
  socklen_t length = sizeof address;
  sockaddr generic{};
  if (::getsockname(fd, &generic, &length) != 0) {
    return 0;
  }
  std::memcpy(&address, &generic, sizeof generic);
  return ntohs(address.sin_port);
}

// Serve one accepted connection: handshake, read the request head, answer.
void serve(SSL_CTX* ctx, int fd) {
  timeval timeout{};
  timeout.tv_sec = 30;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  const std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx), SSL_free);
  if (!ssl || SSL_set_fd(ssl.get(), fd) != 1) {
    print_ssl_errors("SSL_new");
    ::close(fd);
    return;
  }
  if (SSL_accept(ssl.get()) != 1) {
    print_ssl_errors("SSL_accept");
    ::close(fd);
    return;
  }
  std::string request;
  char buffer[1024];
  while (request.find("\r\n\r\n") == std::string::npos &&
         request.find("\n\n") == std::string::npos && request.size() < 65536) {
    const int n = SSL_read(ssl.get(), buffer, sizeof buffer);
    if (n <= 0) {
      break;
    }
    request.append(buffer, static_cast<std::size_t>(n));
  }
  const std::string body =
    std::string("openssl_ticket_server resumed=") +
    (SSL_session_reused(ssl.get()) == 1 ? "true" : "false") +
    " version=" + SSL_get_version(ssl.get()) + "\n";
  const std::string response =
    "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
    std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  SSL_write(ssl.get(), response.data(), static_cast<int>(response.size()));
  SSL_shutdown(ssl.get());
  ::close(fd);
}

} // namespace

int main(int argc, char** argv) {
  const auto options = parse_options(argc, argv);
  if (!options) {
    std::fprintf(stderr, "usage: openssl_ticket_server -listen 127.0.0.1:PORT "
                         "-cert CERT -key KEY -keys FILE\n");
    return 2;
  }
  ::signal(SIGPIPE, SIG_IGN);

  const std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(
    SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!ctx ||
      SSL_CTX_ctrl(ctx.get(), SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION,
                   nullptr) != 1 ||
      SSL_CTX_ctrl(ctx.get(), SSL_CTRL_SET_MAX_PROTO_VERSION, TLS1_3_VERSION,
                   nullptr) != 1 ||
      SSL_CTX_use_certificate_chain_file(ctx.get(), options->cert.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx.get(), options->key.c_str(),
                                  SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_set_session_id_context(
        ctx.get(),
        reinterpret_cast<const unsigned char*>(k_session_id_context.data()),
        static_cast<unsigned int>(k_session_id_context.size())) != 1) {
    print_ssl_errors("SSL_CTX setup");
    return 1;
  }
  // No server-side cache: a resumption can only come from a ticket.
  SSL_CTX_ctrl(ctx.get(), SSL_CTRL_SET_SESS_CACHE_MODE, SSL_SESS_CACHE_OFF,
               nullptr);
  if (!load_ticket_keys(ctx.get(), options->keys)) {
    return 1;
  }

  // SIGHUP is blocked except while waiting for a connection, so it never
  // interrupts a handshake.
  sigset_t hup;
  sigemptyset(&hup);
  sigaddset(&hup, SIGHUP);
  sigset_t waiting;
  sigprocmask(SIG_BLOCK, &hup, &waiting);
  sigdelset(&waiting, SIGHUP);
  struct sigaction action {};
  action.sa_handler = on_sighup;
  sigemptyset(&action.sa_mask);
  sigaction(SIGHUP, &action, nullptr);

  const int listener = listen_on(*options);
  if (listener < 0) {
    return 1;
  }
  std::printf("listening on %s:%u\n", options->host.c_str(),
              static_cast<unsigned>(bound_port(listener)));
  std::fflush(stdout);

  for (;;) {
    pollfd waiting_for{listener, POLLIN, 0};
    const int ready = ::ppoll(&waiting_for, 1, nullptr, &waiting);
    if (g_reload != 0) {
      g_reload = 0;
      // A failed reload keeps the old keys, as a server's failed reload does.
      if (load_ticket_keys(ctx.get(), options->keys)) {
        std::printf("reloaded\n");
        std::fflush(stdout);
      }
    }
    if (ready < 0) {
      if (errno == EINTR) {
        continue;
      }
      std::perror("ppoll");
      return 1;
    }
    if (ready == 0) {
      continue;
    }
    const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      continue;
    }
    serve(ctx.get(), fd);
  }
}
