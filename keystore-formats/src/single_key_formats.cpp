// SPDX-License-Identifier: Apache-2.0
// Servers that hold exactly one key, read from one raw file:
// - Apache httpd SSLSessionTicketKeyFile: 48 bytes, name | HMAC-16 | AES-128
//   (ssl_init_ticket_key in modules/ssl/ssl_engine_init.c);
// - OpenSSL's SSL_CTX_set_tlsext_ticket_keys: 80 bytes,
//   name | HMAC-32 | AES-256 (ssl3_ctx_ctrl in ssl/s3_lib.c).
#include "formats.hpp"
#include "openssl_family.hpp"

namespace stek::formats::detail {
namespace {

Result<Export> write_single(const ExportRequest& request,
                            KeyFileLayout layout,
                            std::string_view server) {
  STEK_TRY_ASSIGN(const auto live, live_keys(request));
  Export out;
  warn_single_key(live, server, out.warnings);
  STEK_TRY_ASSIGN(auto file,
                  key_file(*live.encrypting, request, layout, out.warnings));
  out.files.push_back({"", std::move(file)});
  out.keys.push_back({live.encrypting->id, "encrypts"});
  return out;
}

Result<ServerKeys> read_single(std::span<const FormatFile> files,
                               KeyFileLayout layout,
                               std::string_view origin) {
  STEK_ENSURE(files.size() == 1, Errc::invalid_argument,
              std::string(origin) + " holds one key: import one file");
  ServerKeys out;
  STEK_TRY_ASSIGN(auto key, parse_key_file(files.front().contents.view(),
                                           layout, origin, files.front().name));
  key.encrypting = true;
  out.keys.push_back(std::move(key));
  return out;
}

constexpr KeyFileLayout k_apache_layout{16, SecretOrder::hmac_then_aes};
constexpr KeyFileLayout k_openssl_layout{32, SecretOrder::hmac_then_aes};

Result<Export> write_apache(const ExportRequest& request) {
  auto out = write_single(request, k_apache_layout, "Apache");
  if (out) {
    // Interop finding recorded in the README: mod_ssl 2.4 on OpenSSL 3
    // hands OpenSSL a pointer into a stack buffer that is gone after
    // start-up, so each child process MACs with whatever lies there.
    out->warnings.push_back(
      "Apache 2.4 built with OpenSSL 3 ignores bytes 16-31 of this file and "
      "MACs tickets with whatever 16 bytes its process has on the stack "
      "(usually zeros): ticket integrity rests on the AES key alone, and "
      "sessions resume across child processes, restarts and instances only "
      "when they happen to agree; run one child per instance (ServerLimit 1) "
      "or see stekctl-export(1)");
  }
  return out;
}

} // namespace

const ServerFormat k_apache_format{
  "apache",
  "Apache httpd SSLSessionTicketKeyFile, 48 bytes (AES-128-CBC)",
  "48 bytes: name 0-15 | HMAC key 16-31 | AES key 32-47",
  "its only key",
  ExportShape::file,
  false,
  "ticket.key",
  write_apache,
  [](std::span<const FormatFile> f, Timestamp) {
    return read_single(f, k_apache_layout, "apache");
  },
};

const ServerFormat k_openssl_format{
  "openssl",
  "OpenSSL SSL_CTX_set_tlsext_ticket_keys, 80 raw bytes (AES-256-CBC)",
  "80 bytes: name 0-15 | HMAC key 16-47 | AES key 48-79",
  "its only key",
  ExportShape::file,
  false,
  "ticket.key",
  [](const ExportRequest& r) {
    return write_single(r, k_openssl_layout, "OpenSSL's SSL_CTX_set_tlsext_ticket_keys");
  },
  [](std::span<const FormatFile> f, Timestamp) {
    return read_single(f, k_openssl_layout, "openssl");
  },
};

} // namespace stek::formats::detail
