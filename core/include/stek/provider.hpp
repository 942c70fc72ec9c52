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
  using Secret = std::array<std::uint8_t, k_secret_size>;

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
  SecretView material() const { return {m_material.data(), m_material.size()}; }
  // The AES-256-CBC key and the 32-byte HMAC-SHA256 key of OpenSSL's ticket
  // format, as an 80-byte nginx key file would hold them.
  SecretView aes() const { return {m_aes.data(), m_aes.size()}; }
  SecretView hmac() const { return {m_hmac.data(), m_hmac.size()}; }

  Secret& material_bytes() { return m_material; }
  Secret& aes_bytes() { return m_aes; }
  Secret& hmac_bytes() { return m_hmac; }

private:
  void wipe();

  Secret m_material{};
  Secret m_aes{};
  Secret m_hmac{};
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
