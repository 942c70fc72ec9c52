// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stek/result.hpp>
#include <stek/secret.hpp>
#include <stek/time.hpp>

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace stek {

// The public 16-byte key name that OpenSSL-family and s2n-tls tickets carry
// in clear.
class KeyId {
public:
  static constexpr std::size_t k_size = 16;
  using Bytes = std::array<std::uint8_t, k_size>;

  KeyId() = default;
  explicit KeyId(const Bytes& bytes) : m_bytes(bytes) {}
  // Parse 32 hex digits.
  static Result<KeyId> from_hex(std::string_view text);
  // Return fresh random bytes.
  static Result<KeyId> random();

  const Bytes& bytes() const { return m_bytes; }
  // Return 32 lower-case hex digits.
  std::string hex() const;

  auto operator<=>(const KeyId&) const = default;

private:
  Bytes m_bytes{};
};

// The lifecycle state of a key at an instant; computed, never stored.
enum class KeyState {
  pending,      // published, decrypts, does not encrypt yet
  active,       // may encrypt
  decrypt_only, // no longer encrypts, still decrypts
  expired,      // neither
  revoked,      // revoked at or before the instant: neither
};

// Return the contract spelling: pending, active, decrypt-only, expired,
// revoked.
std::string_view key_state_name(KeyState state);

// Return whether a key in `state` may decrypt tickets.
bool state_decrypts(KeyState state);

// 32 random bytes from which every server-specific secret is derived.
struct Material {
  static constexpr std::size_t k_size = 32;
  SecretBytes bytes;
};

// Explicit AES and HMAC keys kept exactly as an OpenSSL-family server had
// them.
struct ImportedKeys {
  SecretBytes aes;
  SecretBytes hmac;
};

struct Revocation {
  Timestamp at;
  std::string reason;
};

struct Key {
  KeyId id;
  Timestamp created;
  Timestamp not_before;
  Timestamp encrypt_until;
  Timestamp decrypt_until;
  std::optional<Revocation> revoked;
  std::variant<Material, ImportedKeys> secret;
  // The server format an imported key came from; required with
  // ImportedKeys, also kept for material imported from Go or s2n-tls. Its
  // tickets were issued unbound, so exports keep it unbound too.
  std::optional<std::string> origin;
  // Set on the keys of a derived keystore: the epoch whose MAC the
  // material is (stek/derived_keystore.hpp). Never written to a file.
  std::optional<std::int64_t> epoch;

  // Return the state at `t`.
  KeyState state_at(Timestamp t) const;
  // Return whether this key is revoked at any time (now or scheduled).
  bool is_revoked() const { return revoked.has_value(); }
  // Return the secret bytes used for the uniqueness check.
  SecretView secret_identity() const;
  // Return an explicit deep copy.
  Key clone() const;
};

} // namespace stek
