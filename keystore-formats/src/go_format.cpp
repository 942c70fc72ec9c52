// SPDX-License-Identifier: Apache-2.0
// Go crypto/tls Config.SetSessionTicketKeys([][32]byte): the first key
// encrypts, all decrypt. Go has no file format; stekctl's is one standard
// base64 32-byte key per line, in that order. Go expands each key with
// SHA-512: bytes 0-15 name the key in tickets (Go before 1.21), 16-31 are
// the AES-128-CTR key, 32-47 the HMAC-SHA256 key (ticketKeyFromBytes in
// src/crypto/tls/common.go).
#include "formats.hpp"
#include "openssl_family.hpp"

#include <stek/crypto.hpp>
#include <stek/encoding.hpp>

#include <algorithm>

namespace stek::formats::detail {
namespace {

Result<Export> write_go(const ExportRequest& request) {
  STEK_TRY_ASSIGN(const auto live, live_keys(request));
  Export out;
  SecretBytes text;
  for (const Key* key : live.all()) {
    STEK_TRY_ASSIGN(auto seed,
                    export_material(*key, request, "go", out.warnings));
    base64_encode_into(seed.view(), text);
    text.append(std::string_view("\n"));
    out.keys.push_back(
      {key->id, key == live.encrypting ? "encrypts" : "decrypts"});
  }
  out.files.push_back({"", std::move(text)});
  return out;
}

Result<ServerKeys> read_go(std::span<const FormatFile> files, Timestamp) {
  STEK_ENSURE(files.size() == 1, Errc::invalid_argument,
              "a Go import reads one file of base64 keys");
  const auto& file = files.front();
  const auto bytes = file.contents.reveal();
  std::string_view text(reinterpret_cast<const char*>(bytes.data()),
                        bytes.size());
  ServerKeys out;
  std::size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const auto end = std::min(text.find('\n'), text.size());
    auto line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    const auto where = file.name + " line " + std::to_string(line_number);
    auto seed = base64_decode(line);
    STEK_ENSURE(seed.ok() && seed->size() == Material::k_size, Errc::parse,
                "expected a base64 32-byte Go ticket key (" + where + ")");
    // Go (before 1.21) names the key with the first 16 bytes of SHA-512 of
    // it; using that as the id lets inspect match Go's tickets.
    const auto digest = sha512(seed->view());
    KeyId::Bytes name{};
    std::copy_n(digest.reveal().begin(), KeyId::k_size, name.begin());
    out.keys.push_back({KeyId(name), Material{std::move(seed).value()}, "go", false});
  }
  STEK_ENSURE(!out.keys.empty(), Errc::parse,
              "no keys in " + file.name);
  out.keys.front().encrypting = true;
  return out;
}

} // namespace

const ServerFormat k_go_format{
  "go",
  "Go crypto/tls SetSessionTicketKeys: base64 32-byte keys, one per line",
  "32 bytes per line, used as they are (Go expands them with SHA-512)",
  "the first line",
  ExportShape::file,
  true,
  "go-ticket-keys",
  write_go,
  read_go,
};

} // namespace stek::formats::detail
