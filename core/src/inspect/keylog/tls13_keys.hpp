// SPDX-License-Identifier: Apache-2.0
// TLS 1.3 record protection (RFC 8446 section 7): the cipher suites, the
// HKDF-Expand-Label key schedule step, and one direction's traffic key
// with its sequence number. Internal to stek_inspect.
#pragma once
#include <stek/result.hpp>
#include <stek/secret.hpp>

#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

namespace stek::inspect::tls13 {

struct CipherDeleter {
  void operator()(EVP_CIPHER* cipher) const { EVP_CIPHER_free(cipher); }
};
struct KdfDeleter {
  void operator()(EVP_KDF* kdf) const { EVP_KDF_free(kdf); }
};
struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};

// A TLS 1.3 cipher suite with its AEAD and hash, fetched once and shared by
// every connection's keys.
struct Suite {
  std::uint16_t id = 0;
  std::size_t key_size = 0;
  std::size_t hash_size = 0; // also the size of its traffic secrets
  const char* digest = "";
  std::shared_ptr<EVP_CIPHER> cipher;
  std::shared_ptr<EVP_KDF> hkdf;
};

// Return `suite_id` (0x1301, 0x1302 or 0x1303) with its algorithms fetched
// from OpenSSL, or Errc::unsupported.
Result<Suite> fetch_suite(std::uint16_t suite_id);

// Return HKDF-Expand-Label(`secret`, "tls13 " + `label`, "", `length`) with
// the hash of `suite`.
Result<SecretBytes> expand_label(const Suite& suite,
                                 SecretView secret,
                                 std::string_view label,
                                 std::size_t length);

// One traffic secret's key and IV, with the sequence number of the next
// record; the AEAD context is keyed once and only re-nonced per record.
class TrafficKey {
public:
  // Derive the key and IV of `secret` (its size must be the suite's hash
  // size) for `suite`.
  static Result<TrafficKey> derive(const Suite& suite, SecretView secret);

  // Open `record` (a checked 5-byte header, then ciphertext and tag) under
  // the next sequence number into `out`; return whether it authenticated.
  // Only an authenticated record advances the sequence number.
  bool open(std::span<const std::uint8_t> record, std::vector<std::uint8_t>& out);

  std::uint64_t sequence() const { return m_sequence; }
  // Return the traffic secret this key came from (for KeyUpdate).
  SecretView secret() const { return m_secret.view(); }

private:
  using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;
  TrafficKey(CipherCtx ctx, SecretBytes iv, SecretBytes secret)
    : m_ctx(std::move(ctx)), m_iv(std::move(iv)), m_secret(std::move(secret)) {}

  CipherCtx m_ctx;
  SecretBytes m_iv;
  SecretBytes m_secret;
  std::uint64_t m_sequence = 0;
};

// The AEAD tag size of every TLS 1.3 suite here.
inline constexpr std::size_t k_tag_size = 16;
inline constexpr std::size_t k_header_size = 5;

} // namespace stek::inspect::tls13
