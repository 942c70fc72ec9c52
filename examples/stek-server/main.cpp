// SPDX-License-Identifier: Apache-2.0
// stek-server: a small TLS server whose session tickets come from a stekctl
// keystore through libstek's provider, the worked example of pointing a
// server at a keystore file. stekctl rotate (or any atomic replacement of
// the file) reaches it without a restart; it logs every reload.
//
// stek-server --keystore KEYSTORE --listen 127.0.0.1:PORT
//             --vhost NAME=CERT,KEY [--vhost ...]
//
// --openssl-keys FILE instead of --keystore loads an 80-byte key file
// (stekctl export --format openssl) with SSL_CTX_set_tlsext_ticket_keys:
// the same server on OpenSSL's built-in ticket keys, for benchmarks.
#include "server.hpp"
#include "vhosts.hpp"

#include <stek/formats/file_provider.hpp>
#include <stek/openssl_tickets.hpp>

#include <CLI/CLI.hpp>

#include <openssl/crypto.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <vector>

namespace {

void log_status(const stek::ProviderStatus& status) {
  if (status.ok) {
    std::fprintf(stderr, "stek-server: reload generation %llu keys %zu%s%s\n",
                 static_cast<unsigned long long>(status.generation), status.keys,
                 status.message.empty() ? "" : " note: ", status.message.c_str());
  } else {
    std::fprintf(stderr, "stek-server: reload failed, serving generation %llu: %s\n",
                 static_cast<unsigned long long>(status.generation),
                 status.message.c_str());
  }
}

bool use_openssl_keys(SSL_CTX* ctx, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<unsigned char> bytes{std::istreambuf_iterator<char>(in),
                                   std::istreambuf_iterator<char>()};
  const bool ok = bytes.size() == 80 &&
                  SSL_CTX_ctrl(ctx, SSL_CTRL_SET_TLSEXT_TICKET_KEYS, 80,
                               bytes.data()) == 1;
  OPENSSL_cleanse(bytes.data(), bytes.size());
  if (!ok) {
    std::fprintf(stderr, "stek-server: error: %s is not an 80-byte key file\n",
                 path.c_str());
  }
  return ok;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app("A TLS server whose session tickets come from a stekctl keystore",
               "stek-server");
  std::string keystore;
  std::string openssl_keys;
  std::string listen;
  std::vector<std::string> vhost_texts;
  unsigned poll_ms = 1000;
  std::string tls_max = "1.3";
  stek_server::ServeOptions serve_options;
  auto* keystore_option =
    app.add_option("--keystore", keystore, "The keystore file to follow");
  app.add_option("--openssl-keys", openssl_keys,
                 "Use this 80-byte key file with OpenSSL's built-in ticket "
                 "keys instead (for comparison)")
    ->excludes(keystore_option);
  app.add_option("--listen", listen, "HOST:PORT to listen on (port 0: any)")
    ->required();
  app.add_option("--vhost", vhost_texts,
                 "NAME=CERT,KEY; the first is the default")
    ->required();
  app.add_option("--poll-interval", poll_ms,
                 "Milliseconds between checks of the keystore besides inotify")
    ->check(CLI::Range(1u, 3600000u));
  app.add_option("--tls-max", tls_max, "Highest TLS version")
    ->check(CLI::IsMember({"1.2", "1.3"}));
  app.add_option("--max-connections", serve_options.max_connections,
                 "Exit after this many connections (0: never)");
  app.add_flag("--quiet", serve_options.quiet, "Do not log each connection");
  CLI11_PARSE(app, argc, argv);

  if (keystore.empty() == openssl_keys.empty()) {
    std::fprintf(stderr, "stek-server: error: give --keystore or --openssl-keys\n");
    return 2;
  }
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "stek-server: error: --listen wants HOST:PORT\n");
    return 2;
  }
  serve_options.host = listen.substr(0, colon);
  serve_options.port =
    static_cast<std::uint16_t>(std::strtoul(listen.c_str() + colon + 1, nullptr, 10));
  std::vector<stek_server::VhostSpec> specs;
  for (const auto& text : vhost_texts) {
    stek_server::VhostSpec spec;
    if (!stek_server::parse_vhost(text, spec)) {
      std::fprintf(stderr, "stek-server: error: --vhost %s: want NAME=CERT,KEY\n",
                   text.c_str());
      return 2;
    }
    specs.push_back(spec);
  }
  const auto vhosts = stek_server::Vhosts::create(
    specs, tls_max == "1.2" ? TLS1_2_VERSION : TLS1_3_VERSION);
  if (!vhosts) {
    return 1;
  }

  if (!openssl_keys.empty()) {
    if (!use_openssl_keys(vhosts->default_context(), openssl_keys)) {
      return 1;
    }
    return stek_server::serve(*vhosts, serve_options, "openssl-keys " + openssl_keys);
  }

  stek::FileProviderOptions options;
  options.poll_interval = std::chrono::milliseconds(poll_ms);
  options.on_status = log_status;
  auto provider = stek::formats::open_file_provider(keystore, std::move(options));
  if (!provider) {
    std::fprintf(stderr, "stek-server: error: %s\n",
                 provider.error().message.c_str());
    return 1;
  }
  const auto generation = (*provider)->status().generation;
  auto used = stek::openssl::use_ticket_provider(vhosts->default_context(),
                                                 std::move(*provider));
  if (!used) {
    std::fprintf(stderr, "stek-server: error: %s\n", used.error().message.c_str());
    return 1;
  }
  return stek_server::serve(*vhosts, serve_options,
                            "keystore " + keystore + " generation " +
                              std::to_string(generation));
}
