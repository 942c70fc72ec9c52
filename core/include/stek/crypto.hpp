// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stek/result.hpp>
#include <stek/secret.hpp>

#include <array>
#include <cstdint>
#include <span>

namespace stek {

// Fill `out` from OpenSSL's CSPRNG. A short or failed read is an error, never
// a weak key.
Result<void> random_bytes(std::span<std::uint8_t> out);
// Return `size` fresh random secret bytes.
Result<SecretBytes> random_secret(std::size_t size);

// Derive `length` bytes with HKDF-SHA256 (RFC 5869) from `ikm`, `salt` and
// `info`. An empty salt means a zero-filled salt of hash length.
Result<SecretBytes> hkdf_sha256(SecretView ikm,
                                std::span<const std::uint8_t> salt,
                                std::span<const std::uint8_t> info,
                                std::size_t length);

using Sha256Digest = std::array<std::uint8_t, 32>;
// Return SHA-256 of `data`.
Sha256Digest sha256(std::span<const std::uint8_t> data);

// Return SHA-512 of `secret`, as secret bytes: Go derives its ticket keys
// from a 32-byte seed this way.
SecretBytes sha512(SecretView secret);

} // namespace stek
