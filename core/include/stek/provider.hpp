// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stek/key.hpp>
#include <stek/secret.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace stek {

// The 16 bytes a ticket carries in clear to name its key.
using KeyIdView = std::span<const std::uint8_t, KeyId::k_size>;

// One ticket key as a server uses it, with its secrets already derived for
// the server name it was asked for (stekctl-keystore(5), DERIVED SECRETS).
// Fixed-size storage, so handing one out allocates nothing; the secrets are
// wiped when it is destroyed and it cannot be copied by accident.
class TicketKey {
public:
  static constexpr std::size_t k_secret_size = 32;

  TicketKey() = default;
  ~TicketKey();
  TicketKey(TicketKey&& other) noexcept;
  TicketKey& operator=(TicketKey&& other) noexcept;
  TicketKey(const TicketKey&) = delete;
  TicketKey& operator=(const TicketKey&) = delete;

  KeyId id;
  // Decrypting only: the key no longer encrypts for this name, so the server
  // should issue a fresh ticket (OpenSSL's "renew").
  bool renew = false;
  // Whether material() holds anything: keys imported from OpenSSL-family
  // servers have only their AES and HMAC keys.
  bool has_material = false;

  // The 32 bytes of material bound to the name, for servers that derive
  // their own keys from it (s2n-tls, Go).
  SecretView material() const { return view(k_material); }
  // The AES-256-CBC key and the 32-byte HMAC-SHA256 key of OpenSSL's ticket
  // format, as an 80-byte nginx key file would hold them.
  SecretView aes() const { return view(k_aes); }
  SecretView hmac() const { return view(k_hmac); }

  // Where the provider writes the secrets: material, AES, HMAC, 32 bytes
  // each, one block so that handing a key out wipes once, not three times.
  std::span<std::uint8_t, 3 * k_secret_size> secret_block() { return m_secrets; }

private:
  static constexpr std::size_t k_material = 0;
  static constexpr std::size_t k_aes = k_secret_size;
  static constexpr std::size_t k_hmac = 2 * k_secret_size;

  SecretView view(std::size_t at) const { return {m_secrets.data() + at, k_secret_size}; }
  void wipe();

  std::array<std::uint8_t, 3 * k_secret_size> m_secrets{};
};

// The source of ticket keys a TLS server asks on every handshake that
// issues or presents a ticket. Implementations must be safe to call from
// many threads at once and should not block.
class Provider {
public:
  virtual ~Provider() = default;

  // The key that encrypts new tickets for `sni` now (nullopt: the client
  // sent no server name), or none: then the server issues no ticket.
  virtual std::optional<TicketKey>
  encryption_key(std::optional<std::string_view> sni) = 0;

  // The key named `id` if it may decrypt tickets for `sni` now, or none:
  // then the server falls back to a full handshake.
  virtual std::optional<TicketKey>
  decryption_key(std::optional<std::string_view> sni, KeyIdView id) = 0;
};

} // namespace stek
