// SPDX-License-Identifier: Apache-2.0
// Envoy DownstreamTlsContext session_ticket_keys: a list of DataSources of
// exactly 80 bytes each, name | HMAC-32 | AES-256, the first one encrypting
// (getSessionTicketKey in source/common/tls/server_context_config_impl.cc).
// Written as key files plus a session_ticket_keys block that names them, and
// as an SDS Secret carrying the same keys inline.
#include "formats.hpp"
#include "openssl_family.hpp"

#include <stek/encoding.hpp>

namespace stek::formats::detail {
namespace {

constexpr KeyFileLayout k_layout{32, SecretOrder::hmac_then_aes};
constexpr std::string_view k_block = "session_ticket_keys.yaml";
constexpr std::string_view k_sds = "sds_secret.yaml";

Result<Export> write_envoy(const ExportRequest& request) {
  STEK_TRY_ASSIGN(const auto live, live_keys(request));
  Export out;
  std::string block =
    "# Written by stekctl export: the session_ticket_keys of a\n"
    "# DownstreamTlsContext. The first key encrypts; the others decrypt.\n"
    "session_ticket_keys:\n"
    "  keys:\n";
  SecretBytes sds;
  sds.append(std::string_view(
    "# Written by stekctl export: an SDS Secret; point\n"
    "# session_ticket_keys_sds_secret_config at it. The first key encrypts.\n"
    "resources:\n"
    "- \"@type\": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret\n"
    "  name: stek_session_ticket_keys\n"
    "  session_ticket_keys:\n"
    "    keys:\n"));
  for (const Key* key : live.all()) {
    STEK_TRY_ASSIGN(auto file, key_file(*key, request, k_layout, out.warnings));
    const auto name = key_file_name(key->id);
    block += "  - filename: " + request.config_dir + "/" + name + "\n";
    sds.append(std::string_view("    - inline_bytes: "));
    base64_encode_into(file.view(), sds);
    sds.append(std::string_view("\n"));
    out.files.push_back({name, std::move(file)});
    out.keys.push_back(
      {key->id, key == live.encrypting ? "encrypts" : "decrypts"});
  }
  out.files.push_back({std::string(k_block), secret_text(block)});
  out.files.push_back({std::string(k_sds), std::move(sds)});
  return out;
}

Result<ServerKeys> read_envoy(std::span<const FormatFile> files, Timestamp) {
  ServerKeys out;
  for (const auto& file : files) {
    STEK_TRY_ASSIGN(auto key, parse_key_file(file.contents.view(), k_layout,
                                             "envoy", file.name));
    out.keys.push_back(std::move(key));
  }
  STEK_ENSURE(!out.keys.empty(), Errc::invalid_argument,
              "an Envoy import needs at least one key file");
  out.keys.front().encrypting = true;
  return out;
}

} // namespace

const ServerFormat k_envoy_format{
  "envoy",
  "Envoy session_ticket_keys: 80-byte key files, a config block, an SDS Secret",
  "80 bytes: name 0-15 | HMAC key 16-47 | AES key 48-79",
  "the first entry of keys",
  ExportShape::directory,
  false,
  "",
  write_envoy,
  read_envoy,
};

} // namespace stek::formats::detail
