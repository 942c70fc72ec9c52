// SPDX-License-Identifier: Apache-2.0
// stek-server: a small TLS server whose session tickets come from a stekctl
// keystore through libstek's provider, the worked example of pointing a
// server at a keystore file. stekctl rotate (or any atomic replacement of
// the file, such as a Kubernetes Secret update) reaches it without a
// restart; it logs every reload.
//
// stek-server --keystore KEYSTORE --listen 127.0.0.1:PORT
//             --vhost NAME=CERT,KEY [--vhost ...]
//
// --openssl-keys FILE instead of --keystore loads an 80-byte key file
// (stekctl export --format openssl) with SSL_CTX_set_tlsext_ticket_keys:
// the same server on OpenSSL's built-in ticket keys, the baseline of
// bench/run-handshake-bench.sh.
#include "server.hpp"
#include "ticket_trace.hpp"
#include "vhosts.hpp"

#include <stek/formats/file_provider.hpp>
#include <stek/openssl_tickets.hpp>

#include <CLI/CLI.hpp>

#include <openssl/crypto.h>

#include <array>
#include <charconv>
#include <cstdio>
#include <string>
#include <vector>

namespace {

struct CommandLine {
  std::string keystore;
  std::string openssl_keys;
  std::string listen;
  std::vector<std::string> vhosts;
  unsigned poll_ms = 1000;
  bool allow_insecure_permissions = false;
  std::string tls_max = "1.3";
  stek_server::ServeOptions serve;
};

void add_options(CLI::App& app, CommandLine& cl) {
  auto* keys = app.add_option_group("keys", "Where the ticket keys come from");
  keys->add_option("--keystore", cl.keystore,
                   "The keystore file to serve and follow");
  keys->add_option("--openssl-keys", cl.openssl_keys,
                   "An 80-byte key file for OpenSSL's built-in ticket keys "
                   "instead (a baseline for benchmarks)");
  keys->require_option(1);
  app.add_option("--listen", cl.listen, "HOST:PORT to listen on (port 0: any)")
    ->required();
  app.add_option("--vhost", cl.vhosts, "NAME=CERT,KEY; the first is the default")
    ->required();
  app.add_option("--poll-interval", cl.poll_ms,
                 "Milliseconds between checks of the keystore besides inotify")
    ->check(CLI::Range(1u, 3600000u));
  // The provider's error for a 0644 file suggests this flag by name.
  app.add_flag("--allow-insecure-permissions", cl.allow_insecure_permissions,
               "Serve a keystore that group or others may read (volumes "
               "that cannot express 0600)");
  app.add_option("--tls-max", cl.tls_max, "Highest TLS version (default 1.3)")
    ->check(CLI::IsMember({"1.2", "1.3"}));
  app.add_option("--max-connections", cl.serve.max_connections,
                 "Exit after this many connections (0: never)");
  app.add_flag("--quiet", cl.serve.quiet, "Do not log each connection");
}

// Split HOST:PORT (or [IPV6]:PORT) into `out`; false if it is not that.
bool parse_listen(const std::string& text, stek_server::ServeOptions& out) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return false;
  }
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const char* first = text.data() + colon + 1;
  const char* last = text.data() + text.size();
  unsigned port = 0;
  const auto [end, error] = std::from_chars(first, last, port);
  if (first == last || error != std::errc() || end != last || port > 65535) {
    return false;
  }
  out.host = host;
  out.port = static_cast<std::uint16_t>(port);
  return true;
}

// Report a load attempt in one line. Messages name the file and the field,
// never key bytes.
void log_status(const stek::ProviderStatus& status) {
  const auto generation = static_cast<unsigned long long>(status.generation);
  if (status.ok) {
    std::fprintf(stderr, "stek-server: reload generation %llu keys %zu%s%s\n",
                 generation, status.keys, status.message.empty() ? "" : " note: ",
                 status.message.c_str());
  } else {
    std::fprintf(stderr,
                 "stek-server: reload failed, serving generation %llu: %s\n",
                 generation, status.message.c_str());
  }
}

// Give `ctx` the 80-byte key file at `path` (name, HMAC key, AES key), as
// SSL_CTX_set_tlsext_ticket_keys does; print why not.
bool use_openssl_keys(SSL_CTX* ctx, const std::string& path) {
  // One byte more than a key file, to tell a longer file from a good one.
  std::array<unsigned char, 81> bytes{};
  std::size_t size = 0;
  if (std::FILE* file = std::fopen(path.c_str(), "rb")) {
    size = std::fread(bytes.data(), 1, bytes.size(), file);
    std::fclose(file);
  }
  // SSL_CTX_set_tlsext_ticket_keys, without the macro's C cast.
  const bool ok = size == 80 && SSL_CTX_ctrl(ctx, SSL_CTRL_SET_TLSEXT_TICKET_KEYS,
                                             80, bytes.data()) == 1;
  OPENSSL_cleanse(bytes.data(), bytes.size());
  if (!ok) {
    std::fprintf(stderr,
                 "stek-server: error: %s: not an 80-byte ticket key file\n",
                 path.c_str());
  }
  return ok;
}

// Open the keystore and install its provider on `ctx`, the context every
// connection starts with; print why not. The provider lives as long as
// `ctx`. Return the generation it serves, or 0.
std::uint64_t use_keystore(SSL_CTX* ctx, const CommandLine& cl) {
  stek::FileProviderOptions options;
  options.poll_interval = std::chrono::milliseconds(cl.poll_ms);
  options.on_status = log_status;
  options.require_private = !cl.allow_insecure_permissions;
  auto provider = stek::formats::open_file_provider(cl.keystore, options);
  if (!provider) {
    // The message names the file ("no such file (PATH)" and the like).
    std::fprintf(stderr, "stek-server: error: %s%s\n",
                 provider.error().message.c_str(),
                 provider.error().code == stek::Errc::permission
                   ? "; stek-server: --allow-insecure-permissions"
                   : "");
    return 0;
  }
  const auto generation = (*provider)->status().generation;
  // Wrapped only to tell each client which key served it (key= in the
  // response); a server that needs no such report passes the provider as is.
  const auto used = stek::openssl::use_ticket_provider(
    ctx, std::make_shared<stek_server::TracingProvider>(std::move(*provider)));
  if (!used) {
    std::fprintf(stderr, "stek-server: error: %s\n",
                 used.error().message.c_str());
    return 0;
  }
  return generation;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app(
    "A TLS server whose session tickets come from a stekctl keystore",
    "stek-server");
  CommandLine cl;
  add_options(app, cl);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (!parse_listen(cl.listen, cl.serve)) {
    std::fprintf(stderr, "stek-server: error: --listen %s: want HOST:PORT\n",
                 cl.listen.c_str());
    return 2;
  }
  std::vector<stek_server::VhostSpec> specs;
  for (const auto& text : cl.vhosts) {
    auto spec = stek_server::parse_vhost(text);
    if (!spec) {
      std::fprintf(stderr,
                   "stek-server: error: --vhost %s: want NAME=CERT,KEY\n",
                   text.c_str());
      return 2;
    }
    specs.push_back(std::move(*spec));
  }

  const auto vhosts = stek_server::Vhosts::create(
    specs, cl.tls_max == "1.2" ? TLS1_2_VERSION : TLS1_3_VERSION);
  if (!vhosts) {
    return 1;
  }
  if (!cl.openssl_keys.empty()) {
    if (!use_openssl_keys(vhosts->default_context(), cl.openssl_keys)) {
      return 1;
    }
    return stek_server::serve(*vhosts, cl.serve,
                              "openssl-keys " + cl.openssl_keys);
  }
  const auto generation = use_keystore(vhosts->default_context(), cl);
  if (generation == 0) {
    return 1;
  }
  return stek_server::serve(*vhosts, cl.serve,
                            "keystore " + cl.keystore + " generation " +
                              std::to_string(generation));
}
