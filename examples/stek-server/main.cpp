// SPDX-License-Identifier: Apache-2.0
// stek-server: a small TLS server whose session tickets come from a stekctl
// keystore through libstek's provider, the worked example of pointing a
// server at a keystore file. stekctl rotate (or any atomic replacement of
// the file, such as a Kubernetes Secret update) reaches it without a
// restart; it logs every reload. A derived keystore (no keys, an oracle) is
// served by a DerivedProvider instead: it logs each successful oracle call,
// each new kind of failure, outages and run-out warnings.
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

#include <stek/formats/derived_provider.hpp>
#include <stek/openssl_tickets.hpp>

#include <CLI/CLI.hpp>

#include <openssl/crypto.h>

#include <array>
#include <charconv>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
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
                   "The keystore file to serve and follow, or a derived "
                   "keystore whose oracle computes the keys");
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

std::string epochs_of(const stek::DerivedProviderStatus& status) {
  if (!status.first_epoch) {
    return "no epoch";
  }
  return "epochs " + std::to_string(*status.first_epoch) + " to " +
         std::to_string(*status.last_epoch);
}

// Report an oracle call of a derived keystore's provider: every success (a
// key was fetched), and a failure only when its message changed during an
// outage, so that retries do not flood the log (on_log reports the
// outage's start, with the first message, and its end). Called from one
// thread at a time.
std::function<void(const stek::DerivedProviderStatus&)> derived_status_logger() {
  return [last = std::make_shared<std::string>()](
           const stek::DerivedProviderStatus& status) {
    if (status.oracle_ok) {
      last->clear();
      std::fprintf(stderr, "stek-server: oracle ok, serving %s, runs out at %s\n",
                   epochs_of(status).c_str(),
                   status.runs_out_at ? stek::format_time(*status.runs_out_at).c_str()
                                      : "-");
      return;
    }
    if (!last->empty() && status.message != *last) {
      std::fprintf(stderr, "stek-server: oracle still failing, serving %s: %s\n",
                   epochs_of(status).c_str(), status.message.c_str());
    }
    *last = status.message;
  };
}

void log_derived(std::string_view line) {
  std::fprintf(stderr, "stek-server: %.*s\n", static_cast<int>(line.size()),
               line.data());
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

// Open the keystore, plain or derived, and install its provider on `ctx`,
// the context every connection starts with; print why not. The provider
// lives as long as `ctx`. Return what it serves for the listening line
// ("generation N", or the epochs of a derived keystore), or nullopt.
std::optional<std::string> use_keystore(SSL_CTX* ctx, const CommandLine& cl) {
  stek::formats::ProviderOptions options;
  options.file.poll_interval = std::chrono::milliseconds(cl.poll_ms);
  options.file.on_status = log_status;
  options.file.require_private = !cl.allow_insecure_permissions;
  options.derived.on_status = derived_status_logger();
  options.derived.on_log = log_derived;
  options.derived.require_private = !cl.allow_insecure_permissions;
  auto provider = stek::formats::open_provider(cl.keystore, std::move(options));
  if (!provider) {
    // The message names the file ("no such file (PATH)" and the like).
    std::fprintf(stderr, "stek-server: error: %s%s\n",
                 provider.error().message.c_str(),
                 provider.error().code == stek::Errc::permission
                   ? "; stek-server: --allow-insecure-permissions"
                   : "");
    return std::nullopt;
  }
  std::string what;
  if (const auto* file = std::get_if<0>(&*provider)) {
    what = "generation " + std::to_string((*file)->status().generation);
  } else {
    what = "derived " + epochs_of(std::get<1>(*provider)->status());
  }
  // Wrapped only to tell each client which key served it (key= in the
  // response); a server that needs no such report passes the provider as is.
  const auto used = stek::openssl::use_ticket_provider(
    ctx, std::make_shared<stek_server::TracingProvider>(
           stek::formats::share_provider(std::move(*provider))));
  if (!used) {
    std::fprintf(stderr, "stek-server: error: %s\n",
                 used.error().message.c_str());
    return std::nullopt;
  }
  return what;
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
  const auto serving = use_keystore(vhosts->default_context(), cl);
  if (!serving) {
    return 1;
  }
  return stek_server::serve(*vhosts, cl.serve,
                            "keystore " + cl.keystore + " " + *serving);
}
