// SPDX-License-Identifier: Apache-2.0
// nginx: one raw key file per ssl_session_ticket_key directive. The first
// directive encrypts; every one decrypts. 80-byte files are
// name | HMAC-32 | AES-256, but 48-byte files are name | AES-128 | HMAC-16
// (ngx_ssl_session_ticket_keys in src/event/ngx_event_openssl.c), the
// opposite order to OpenSSL's own 48-byte layout.
#include "formats.hpp"
#include "openssl_family.hpp"

namespace stek::formats::detail {
namespace {

constexpr std::string_view k_snippet = "ssl_session_tickets.conf";

Result<Export> write_nginx(const ExportRequest& request,
                           KeyFileLayout layout) {
  STEK_TRY_ASSIGN(const auto live, live_keys(request));
  Export out;
  std::string snippet =
    "# Written by stekctl export. The first key encrypts new tickets; the\n"
    "# others only decrypt. Include this file in the server block.\n";
  for (const Key* key : live.all()) {
    STEK_TRY_ASSIGN(auto file, key_file(*key, request, layout, out.warnings));
    const auto name = key_file_name(key->id);
    out.files.push_back({name, std::move(file)});
    out.keys.push_back(
      {key->id, key == live.encrypting ? "encrypts" : "decrypts"});
    snippet += "ssl_session_ticket_key " + request.config_dir + "/" + name + ";\n";
  }
  out.files.push_back({std::string(k_snippet), secret_text(snippet)});
  return out;
}

Result<ServerKeys> read_nginx(std::span<const FormatFile> files,
                              KeyFileLayout layout,
                              std::string_view origin) {
  ServerKeys out;
  for (const auto& file : files) {
    STEK_TRY_ASSIGN(auto key, parse_key_file(file.contents.view(), layout,
                                             origin, file.name));
    out.keys.push_back(std::move(key));
  }
  STEK_ENSURE(!out.keys.empty(), Errc::invalid_argument,
              "nginx import needs at least one key file");
  // nginx encrypts with the key of the first directive.
  out.keys.front().encrypting = true;
  return out;
}

constexpr KeyFileLayout k_layout80{32, SecretOrder::hmac_then_aes};
constexpr KeyFileLayout k_layout48{16, SecretOrder::aes_then_hmac};

} // namespace

const ServerFormat k_nginx_format{
  "nginx",
  "nginx ssl_session_ticket_key files, 80 bytes (AES-256-CBC)",
  "80 bytes: name 0-15 | HMAC key 16-47 | AES key 48-79",
  "the first ssl_session_ticket_key directive",
  ExportShape::directory,
  false,
  "",
  [](const ExportRequest& r) { return write_nginx(r, k_layout80); },
  [](std::span<const FormatFile> f, Timestamp) { return read_nginx(f, k_layout80, "nginx"); },
};

const ServerFormat k_nginx48_format{
  "nginx48",
  "nginx ssl_session_ticket_key files, 48 bytes (AES-128-CBC)",
  "48 bytes: name 0-15 | AES key 16-31 | HMAC key 32-47",
  "the first ssl_session_ticket_key directive",
  ExportShape::directory,
  false,
  "",
  [](const ExportRequest& r) { return write_nginx(r, k_layout48); },
  [](std::span<const FormatFile> f, Timestamp) { return read_nginx(f, k_layout48, "nginx48"); },
};

} // namespace stek::formats::detail
