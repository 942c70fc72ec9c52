// SPDX-License-Identifier: Apache-2.0
#include <stek/formats/native_keystore.hpp>

#include <stek/encoding.hpp>

#include "native_derivation.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace stek::formats {
namespace {

// Writes the fixed layout by hand, straight into secret memory: going
// through a JSON DOM would leave copies of the base64 secrets in ordinary
// strings.
class Writer {
public:
  explicit Writer(SecretBytes& out) : m_out(out) {}

  void raw(std::string_view text) { m_out.append(text); }

  void indent(int level) {
    for (int i = 0; i < level; ++i) {
      raw("  ");
    }
  }

  // Write `"name": ` at `level`, preceded by a comma and newline unless it is
  // the first field of its object.
  void field(int level, std::string_view name, bool& first) {
    raw(first ? "\n" : ",\n");
    first = false;
    indent(level);
    raw(quoted(name));
    raw(": ");
  }

  void string_field(int level, std::string_view name, std::string_view value,
                    bool& first) {
    field(level, name, first);
    raw(quoted(value));
  }

  void secret_field(int level, std::string_view name, SecretView value,
                    bool& first) {
    field(level, name, first);
    raw("\"");
    base64_encode_into(value, m_out);
    raw("\"");
  }

private:
  // JSON-quote public text; invalid UTF-8 is replaced rather than thrown on.
  // Ids, times and durations need no escaping and skip the JSON library,
  // which would cost a DOM value per field.
  static std::string quoted(std::string_view text) {
    const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
      return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
    });
    if (plain) {
      std::string out;
      out.reserve(text.size() + 2);
      out += '"';
      out += text;
      out += '"';
      return out;
    }
    return nlohmann::json(std::string(text))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }

  SecretBytes& m_out;
};

void write_policy(Writer& w, const Policy& policy) {
  bool first = true;
  w.raw("{");
  w.string_field(2, "rotate_every", format_duration(policy.rotate_every), first);
  w.string_field(2, "publish_ahead", format_duration(policy.publish_ahead),
                 first);
  w.string_field(2, "encrypt_for", format_duration(policy.encrypt_for), first);
  w.string_field(2, "decrypt_for", format_duration(policy.decrypt_for), first);
  w.field(2, "sni_binding", first);
  w.raw(policy.sni_binding ? "true" : "false");
  w.raw("\n");
  w.indent(1);
  w.raw("}");
}

void write_key(Writer& w, const Key& key) {
  bool first = true;
  w.indent(2);
  w.raw("{");
  w.string_field(3, "id", key.id.hex(), first);
  w.string_field(3, "created", format_time(key.created), first);
  w.string_field(3, "not_before", format_time(key.not_before), first);
  w.string_field(3, "encrypt_until", format_time(key.encrypt_until), first);
  w.string_field(3, "decrypt_until", format_time(key.decrypt_until), first);
  if (const auto* material = std::get_if<Material>(&key.secret)) {
    w.secret_field(3, "material", material->bytes.view(), first);
  } else {
    const auto& imported = std::get<ImportedKeys>(key.secret);
    w.secret_field(3, "aes", imported.aes.view(), first);
    w.secret_field(3, "hmac", imported.hmac.view(), first);
  }
  if (key.origin) {
    w.string_field(3, "origin", *key.origin, first);
  }
  if (key.revoked) {
    w.field(3, "revoked", first);
    bool inner = true;
    w.raw("{");
    w.string_field(4, "at", format_time(key.revoked->at), inner);
    w.string_field(4, "reason", key.revoked->reason, inner);
    w.raw("\n");
    w.indent(3);
    w.raw("}");
  }
  w.raw("\n");
  w.indent(2);
  w.raw("}");
}

} // namespace

SecretBytes serialize_native_keystore(const Keystore& keystore) {
  SecretBytes out;
  // About 330 bytes per key; reserving up front avoids reallocations (each
  // of which would have to wipe the old buffer).
  out.reserve(512 + keystore.keys.size() * 400);
  Writer w(out);
  bool first = true;
  w.raw("{");
  w.field(1, "stek_keystore", first);
  w.raw("1");
  w.field(1, "policy", first);
  write_policy(w, keystore.policy);
  if (keystore.derivation) {
    w.field(1, "derived", first);
    w.raw(detail::format_derivation(*keystore.derivation));
    w.raw("\n}\n");
    return out;
  }
  w.field(1, "keys", first);
  if (keystore.keys.empty()) {
    w.raw("[]");
  } else {
    w.raw("[\n");
    for (std::size_t i = 0; i < keystore.keys.size(); ++i) {
      write_key(w, keystore.keys[i]);
      w.raw(i + 1 < keystore.keys.size() ? ",\n" : "\n");
    }
    w.indent(1);
    w.raw("]");
  }
  w.raw("\n}\n");
  return out;
}

} // namespace stek::formats
