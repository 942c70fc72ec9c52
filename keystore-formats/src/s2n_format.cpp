// SPDX-License-Identifier: Apache-2.0
// s2n-tls: s2n_config_add_ticket_crypto_key(name, material, intro_time)
// per key, with one encrypt-decrypt and one decrypt-only lifetime per
// config. s2n has no file format; stekctl's is a small JSON document with
// exactly what those calls take (tls/s2n_config.c; see
// reference/s2n-tls.md).
#include "formats.hpp"
#include "openssl_family.hpp"

#include <stek/encoding.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>

namespace stek::formats::detail {
namespace {

std::string seconds(Timestamp t) {
  return std::to_string(t.time_since_epoch().count());
}

Result<Export> write_s2n(const ExportRequest& request) {
  STEK_TRY_ASSIGN(const auto live, live_keys(request));
  const Policy& policy = request.keystore->policy;
  Export out;
  SecretBytes text;
  text.append("{\n  \"s2n_ticket_keys\": 1,\n  \"encrypt_decrypt_key_lifetime\": " +
              std::to_string(policy.encrypt_for.count()) +
              ",\n  \"decrypt_key_lifetime\": " +
              std::to_string(policy.decrypt_for.count()) + ",\n  \"keys\": [");
  const auto keys = live.all();
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const Key& key = *keys[i];
    STEK_TRY_ASSIGN(auto material,
                    export_material(key, request, "s2n", out.warnings));
    text.append(std::string_view(i == 0 ? "\n" : ",\n"));
    text.append("    {\"name\": \"" + key.id.hex() + "\", \"material\": \"");
    base64_encode_into(material.view(), text);
    // s2n encrypts with a key from intro_time for the config's lifetime: end
    // that window at encrypt_until where the key's window was cut short
    // (rotate --now, imports), so s2n does not keep encrypting with it.
    const Timestamp intro =
      std::min(key.not_before, key.encrypt_until - policy.encrypt_for);
    text.append("\", \"intro_time\": " + seconds(intro) + "}");
    out.keys.push_back({key.id, &key == live.encrypting ? "encrypts" : "decrypts"});
    if (key.encrypt_until - key.not_before > policy.encrypt_for) {
      out.warnings.push_back(
        "s2n-tls gives every key the same encrypt-decrypt lifetime; key " +
        key.id.hex() + " encrypts for " +
        format_duration(key.encrypt_until - key.not_before) +
        " in the keystore but for " + format_duration(policy.encrypt_for) +
        " in s2n-tls");
    }
  }
  text.append(std::string_view("\n  ]\n}\n"));
  out.warnings.push_back(
    "s2n-tls picks among keys in their encrypt-decrypt window at random "
    "(weighted by age), not the single encrypting key of the keystore");
  out.files.push_back({"", std::move(text)});
  return out;
}

Result<ServerKeys> read_s2n(std::span<const FormatFile> files, Timestamp now) {
  using nlohmann::json;
  STEK_ENSURE(files.size() == 1, Errc::invalid_argument,
              "an s2n import reads one file");
  const auto& file = files.front();
  const auto bytes = file.contents.reveal();
  json doc = json::parse(bytes.begin(), bytes.end(), nullptr, false);
  const auto bad = [&](const std::string& what) {
    return fail(Errc::parse, what + " (" + file.name + ")");
  };
  // The version is checked for type before its value: doc.value(field, 0)
  // throws type_error for a version that is not a number (found by
  // fuzz/targets/import_formats.cpp).
  if (doc.is_discarded() || !doc.is_object() ||
      !doc.contains("s2n_ticket_keys") ||
      !doc["s2n_ticket_keys"].is_number_integer() ||
      doc["s2n_ticket_keys"] != 1 || !doc.contains("keys") ||
      !doc["keys"].is_array() || doc["keys"].empty()) {
    return bad("not an s2n ticket key file of version 1 with keys");
  }
  ServerKeys out;
  std::optional<std::size_t> newest;
  std::vector<std::int64_t> intro;
  for (auto& entry : doc["keys"]) {
    const auto where = "key #" + std::to_string(out.keys.size() + 1);
    if (!entry.is_object() || !entry.contains("name") ||
        !entry["name"].is_string() || !entry.contains("material") ||
        !entry["material"].is_string() || !entry.contains("intro_time") ||
        !entry["intro_time"].is_number_integer()) {
      return bad(where + " needs name, material and intro_time");
    }
    auto name = hex_decode(entry["name"].get<std::string>());
    // s2n pads shorter names with zero bytes in its tickets.
    if (!name || name->empty() || name->size() > KeyId::k_size) {
      return bad(where + ": name must be 1 to 16 bytes of hex");
    }
    auto& material_text = entry["material"].get_ref<std::string&>();
    auto material = base64_decode(material_text);
    cleanse(material_text);
    if (!material || material->size() != Material::k_size) {
      return bad(where + ": material must be 32 bytes of base64");
    }
    KeyId::Bytes id{};
    std::copy(name->begin(), name->end(), id.begin());
    intro.push_back(entry["intro_time"].get<std::int64_t>());
    out.keys.push_back(
      {KeyId(id), Material{std::move(material).value()}, "s2n", false});
  }
  // Which key s2n encrypts with is a weighted draw; the newest one already
  // introduced is the one most likely to be in use.
  const std::int64_t now_seconds = now.time_since_epoch().count();
  for (std::size_t i = 0; i < intro.size(); ++i) {
    if (intro[i] <= now_seconds && (!newest || intro[i] > intro[*newest])) {
      newest = i;
    }
  }
  STEK_ENSURE(newest, Errc::parse,
              "no key has an intro_time that has come (" + file.name + ")");
  out.keys[*newest].encrypting = true;
  return out;
}

} // namespace

const ServerFormat k_s2n_format{
  "s2n",
  "s2n-tls ticket keys: JSON with name, material and intro time per key",
  "JSON: name (16-byte hex), material (base64 of 32 bytes), intro_time",
  "a weighted draw among keys in their encrypt-decrypt window",
  ExportShape::file,
  true,
  "s2n-ticket-keys.json",
  write_s2n,
  read_s2n,
};

} // namespace stek::formats::detail
