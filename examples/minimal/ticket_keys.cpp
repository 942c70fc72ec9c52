// SPDX-License-Identifier: Apache-2.0
// The smallest C++ integration: an OpenSSL server context whose session
// tickets come from a stekctl keystore, reloaded when stekctl rotates it.
#include <stek/formats/file_provider.hpp>
#include <stek/openssl_tickets.hpp>

#include <openssl/ssl.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s KEYSTORE\n", argv[0]);
    return 2;
  }
  stek::FileProviderOptions options;
  options.on_status = [](const stek::ProviderStatus& status) {
    std::fprintf(stderr, "keystore generation %llu: %s\n",
                 static_cast<unsigned long long>(status.generation),
                 status.ok ? "loaded" : status.message.c_str());
  };
  auto provider = stek::formats::open_file_provider(argv[1], options);
  if (!provider) {
    std::fprintf(stderr, "error: %s\n", provider.error().message.c_str());
    return 1;
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  // The context shares ownership; the provider lives as long as it does.
  auto used = stek::openssl::use_ticket_provider(ctx, std::move(*provider));
  if (!used) {
    std::fprintf(stderr, "error: %s\n", used.error().message.c_str());
    return 1;
  }
  // ... load the certificate, accept connections with SSL_new(ctx) ...
  SSL_CTX_free(ctx);
  return 0;
}
