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

namespace {

enum class NameProblem { none, length, label, character };

// Lower-case `name` into `out` (room for 254 characters), drop one trailing
// dot, and check what remains. Allocates nothing.
NameProblem normalize_into(std::string_view name,
                           std::array<char, 254>& out,
                           std::size_t& size) {
  if (!name.empty() && name.back() == '.') {
    name.remove_suffix(1);
  }
  if (name.empty() || name.size() > 253) {
    return NameProblem::length;
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    out[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  }
  size = name.size();
  std::size_t label = 0;
  for (std::size_t i = 0; i <= size; ++i) {
    if (i == size || out[i] == '.') {
      if (label == 0 || label > 63 || out[i - 1] == '-' ||
          out[i - label] == '-') {
        return NameProblem::label;
      }
      label = 0;
      continue;
    }
    if (!label_character(out[i])) {
      return NameProblem::character;
    }
    ++label;
  }
  return NameProblem::none;
}

} // namespace

bool ServerNameBuffer::assign(std::string_view name) {
  std::size_t size = 0;
  const bool good = normalize_into(name, m_chars, size) == NameProblem::none;
  m_size = good ? size : 0;
  return good;
}

Result<std::string> normalize_server_name(std::string_view name) {
  std::array<char, 254> out;
  std::size_t size = 0;
  switch (normalize_into(name, out, size)) {
  case NameProblem::none:
    return std::string(out.data(), size);
  case NameProblem::length:
    return fail(Errc::invalid_argument,
                "server name \"" + std::string(name) + "\" is empty or too long");
  case NameProblem::label:
    return fail(Errc::invalid_argument,
                "server name \"" + std::string(name) +
                  "\" has an empty, over-long or hyphen-edged label");
  case NameProblem::character:
    break;
  }
  return fail(Errc::invalid_argument,
              "server name \"" + std::string(name) +
                "\" has a character a host name cannot have");
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
