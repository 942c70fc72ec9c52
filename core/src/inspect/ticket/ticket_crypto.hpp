// SPDX-License-Identifier: Apache-2.0
// The primitives ticket formats use, over spans, with plaintext only ever in
// SecretBytes. A failed check and an internal OpenSSL failure both give
// "no result": the caller reports the ticket as not opened.
#pragma once
#include <stek/secret.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <span>

namespace stek::inspect::detail {

using Sha256Mac = std::array<std::uint8_t, 32>;

// Return HMAC-SHA256 of `data` under `key`, or nullopt on an OpenSSL
// failure.
std::optional<Sha256Mac> hmac_sha256(std::span<const std::uint8_t> key,
                                     std::span<const std::uint8_t> data);

// Return whether HMAC-SHA256(`key`, `data`) equals `tag`, compared in
// constant time.
bool hmac_sha256_verifies(std::span<const std::uint8_t> key,
                          std::span<const std::uint8_t> data,
                          std::span<const std::uint8_t> tag);

// Decrypt AES-CBC (`key` 16 or 32 bytes) with PKCS#7 padding; nullopt if
// the ciphertext is not whole blocks or the padding is bad.
std::optional<SecretBytes> aes_cbc_decrypt(SecretView key,
                                           std::span<const std::uint8_t> iv,
                                           std::span<const std::uint8_t> ciphertext);

// Apply AES-128-CTR with `key` (16 bytes) and the 16-byte counter block `iv`.
std::optional<SecretBytes> aes128_ctr(SecretView key,
                                      std::span<const std::uint8_t> iv,
                                      std::span<const std::uint8_t> data);

// Open AES-256-GCM: nullopt unless the 16-byte `tag` verifies.
std::optional<SecretBytes> aes256_gcm_open(SecretView key,
                                           std::span<const std::uint8_t> nonce,
                                           std::span<const std::uint8_t> aad,
                                           std::span<const std::uint8_t> ciphertext,
                                           std::span<const std::uint8_t> tag);

} // namespace stek::inspect::detail
