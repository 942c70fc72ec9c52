// SPDX-License-Identifier: Apache-2.0
#include <stek/derive.hpp>

#include <stek/crypto.hpp>

namespace stek {
namespace {

std::span<const std::uint8_t> bytes_of(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// Letters, digits, '-' and '_' (seen in real host names, if not in RFC
// 1123).
bool label_character(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

} // namespace

Result<std::string> normalize_server_name(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  if (!out.empty() && out.back() == '.') {
    out.pop_back();
  }
  STEK_ENSURE(!out.empty() && out.size() <= 253, Errc::invalid_argument,
              "server name \"" + std::string(name) + "\" is empty or too long");
  std::size_t label = 0;
  for (std::size_t i = 0; i <= out.size(); ++i) {
    if (i == out.size() || out[i] == '.') {
      STEK_ENSURE(label > 0 && label <= 63 && out[i - 1] != '-' &&
                    out[i - label] != '-',
                  Errc::invalid_argument,
                  "server name \"" + std::string(name) +
                    "\" has an empty, over-long or hyphen-edged label");
      label = 0;
      continue;
    }
    STEK_ENSURE(label_character(out[i]), Errc::invalid_argument,
                "server name \"" + std::string(name) +
                  "\" has a character a host name cannot have");
    ++label;
  }
  return out;
}

std::optional<std::string> Binding::info() const {
  switch (m_kind) {
  case Kind::unbound:
    return std::nullopt;
  case Kind::server_name:
    return std::string(k_label_sni) + m_name;
  case Kind::no_server_name:
    return std::string(k_label_no_sni);
  }
  return std::nullopt;
}

Result<SecretBytes> material_for(const Key& key, const Binding& binding) {
  const auto* material = std::get_if<Material>(&key.secret);
  STEK_ENSURE(material != nullptr, Errc::unsupported,
              "key " + key.id.hex() + " was imported from " +
                key.origin.value_or("a server") +
                " and has only AES and HMAC keys, no material");
  const auto info = binding.info();
  if (!info) {
    return material->bytes.clone();
  }
  return hkdf_sha256(material->bytes.view(), {}, bytes_of(*info),
                     Material::k_size);
}

Result<OpensslKeys> openssl_keys_for(const Key& key,
                                     const Binding& binding,
                                     std::size_t size) {
  STEK_ENSURE(size == 16 || size == 32, Errc::invalid_argument,
              "OpenSSL-family keys are 16 or 32 bytes");
  if (const auto* imported = std::get_if<ImportedKeys>(&key.secret)) {
    STEK_ENSURE(imported->aes.size() == size, Errc::unsupported,
                "key " + key.id.hex() + " was imported from " +
                  key.origin.value_or("a server") + " with " +
                  std::to_string(imported->aes.size()) +
                  "-byte AES and HMAC keys and cannot be written with " +
                  std::to_string(size) + "-byte ones");
    STEK_ENSURE(binding.is_unbound(), Errc::unsupported,
                "key " + key.id.hex() + " was imported from " +
                  key.origin.value_or("a server") +
                  " and has no material to derive per-name keys from");
    return OpensslKeys{imported->aes.clone(), imported->hmac.clone()};
  }
  STEK_TRY_ASSIGN(auto material, material_for(key, binding));
  const bool wide = size == 32;
  STEK_TRY_ASSIGN(auto aes,
                  hkdf_sha256(material.view(), {},
                              bytes_of(wide ? k_label_aes256 : k_label_aes128),
                              size));
  STEK_TRY_ASSIGN(auto hmac,
                  hkdf_sha256(material.view(), {},
                              bytes_of(wide ? k_label_hmac256 : k_label_hmac128),
                              size));
  return OpensslKeys{std::move(aes), std::move(hmac)};
}

} // namespace stek
