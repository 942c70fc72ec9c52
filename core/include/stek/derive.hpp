// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stek/key.hpp>
#include <stek/result.hpp>
#include <stek/secret.hpp>

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace stek {

// The HKDF-SHA256 info labels every server-specific secret is derived under
// (salt empty). They are part of the keystore format: stekctl-keystore(5)
// documents them so anyone can reproduce an export.
inline constexpr std::string_view k_label_sni = "stekctl/v1 sni ";
inline constexpr std::string_view k_label_no_sni = "stekctl/v1 no-sni";
inline constexpr std::string_view k_label_aes256 = "stekctl/v1 openssl aes-256-cbc";
inline constexpr std::string_view k_label_hmac256 = "stekctl/v1 openssl hmac-sha256 32";
inline constexpr std::string_view k_label_aes128 = "stekctl/v1 openssl aes-128-cbc";
inline constexpr std::string_view k_label_hmac128 = "stekctl/v1 openssl hmac-sha256 16";

// Return `name` as keys are bound to it: ASCII lower case, one trailing dot
// dropped. Errc::invalid_argument for an empty name, one over 253
// characters, an empty or over-long label, or a character other than
// letters, digits, '-' and '_'.
Result<std::string> normalize_server_name(std::string_view name);

// A server name normalized as normalize_server_name does, held in place so
// that the providers' lookups allocate nothing.
class ServerNameBuffer {
public:
  // Normalize `name` into this buffer; false (and empty) where
  // normalize_server_name would fail.
  bool assign(std::string_view name);
  std::string_view view() const { return {m_chars.data(), m_size}; }

private:
  // Not zeroed: it is built on every lookup, and only m_size bytes count.
  std::array<char, 254> m_chars;
  std::size_t m_size = 0;
};

// Which secrets to derive: for every server name alike, for one name, or for
// connections that sent no name (the providers' fixed "no SNI" label).
class Binding {
public:
  // The secrets of the key itself, shared by every name.
  static Binding unbound() { return Binding(Kind::unbound, {}); }
  // Secrets for `name`, already normalized.
  static Binding server_name(std::string name) {
    return Binding(Kind::server_name, std::move(name));
  }
  // Secrets for a connection without SNI.
  static Binding no_server_name() { return Binding(Kind::no_server_name, {}); }

  bool is_unbound() const { return m_kind == Kind::unbound; }
  // Return the server name, if bound to one.
  std::optional<std::string> bound_name() const {
    return m_kind == Kind::server_name ? std::optional(m_name) : std::nullopt;
  }
  // Return the HKDF info that derives this binding's material, or nullopt
  // for unbound.
  std::optional<std::string> info() const;

private:
  enum class Kind { unbound, server_name, no_server_name };
  Binding(Kind kind, std::string name) : m_kind(kind), m_name(std::move(name)) {}
  Kind m_kind;
  std::string m_name;
};

// Return the 32 bytes of material a server taking raw material (s2n-tls, Go)
// gets for `key` under `binding`: the material itself when unbound, else
// HKDF(material, info = binding label). Errc::unsupported for imported keys,
// which have no material.
Result<SecretBytes> material_for(const Key& key, const Binding& binding);

// The AES and HMAC keys of an OpenSSL-family server (nginx, HAProxy, Apache,
// Envoy, OpenSSL), `size` bytes each: 32 (AES-256-CBC, 80-byte key files) or
// 16 (AES-128-CBC, 48-byte key files).
struct OpensslKeys {
  SecretBytes aes;
  SecretBytes hmac;
};

// Return the OpenSSL-family keys of `key`: an imported key's own bytes (only
// unbound and only in its own size: Errc::unsupported otherwise), or, for a
// generated key, HKDF of material_for(key, binding) under the AES and HMAC
// labels of `size`.
Result<OpensslKeys> openssl_keys_for(const Key& key,
                                     const Binding& binding,
                                     std::size_t size);

} // namespace stek
