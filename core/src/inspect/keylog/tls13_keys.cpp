// SPDX-License-Identifier: Apache-2.0
#include "inspect/keylog/tls13_keys.hpp"

#include "crypto/openssl_errors.hpp"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <array>
#include <climits>
#include <string>

namespace stek::inspect::tls13 {
namespace {

constexpr std::size_t k_iv_size = 12;

struct SuiteInfo {
  std::uint16_t id;
  const char* cipher;
  const char* digest;
  std::size_t key_size;
  std::size_t hash_size;
};

constexpr std::array<SuiteInfo, 3> k_suites = {
  SuiteInfo{0x1301, "AES-128-GCM", "SHA256", 16, 32},
  SuiteInfo{0x1302, "AES-256-GCM", "SHA384", 32, 48},
  SuiteInfo{0x1303, "ChaCha20-Poly1305", "SHA256", 32, 32},
};

using detail::openssl_errors;

} // namespace

Result<Suite> fetch_suite(std::uint16_t suite_id) {
  for (const SuiteInfo& info : k_suites) {
    if (info.id != suite_id) {
      continue;
    }
    Suite suite;
    suite.id = info.id;
    suite.key_size = info.key_size;
    suite.hash_size = info.hash_size;
    suite.digest = info.digest;
    suite.cipher.reset(EVP_CIPHER_fetch(nullptr, info.cipher, nullptr),
                       CipherDeleter{});
    suite.hkdf.reset(EVP_KDF_fetch(nullptr, "HKDF", nullptr), KdfDeleter{});
    STEK_ENSURE(suite.cipher && suite.hkdf, Errc::unsupported,
                openssl_errors(std::string(info.cipher) + " or HKDF is "
                                                          "unavailable"));
    return suite;
  }
  return fail(Errc::unsupported, "not a TLS 1.3 cipher suite this tool "
                                 "decrypts");
}

Result<SecretBytes> expand_label(const Suite& suite,
                                 SecretView secret,
                                 std::string_view label,
                                 std::size_t length) {
  // struct { uint16 length; opaque label<7..255> = "tls13 " + label;
  //          opaque context<0..255> = ""; } HkdfLabel;
  static constexpr std::string_view k_prefix = "tls13 ";
  STEK_ENSURE(length <= 0xFFFF && k_prefix.size() + label.size() <= 255,
              Errc::invalid_argument, "HKDF-Expand-Label out of range");
  std::vector<std::uint8_t> info;
  info.push_back(static_cast<std::uint8_t>(length >> 8));
  info.push_back(static_cast<std::uint8_t>(length & 0xFF));
  info.push_back(static_cast<std::uint8_t>(k_prefix.size() + label.size()));
  info.insert(info.end(), k_prefix.begin(), k_prefix.end());
  info.insert(info.end(), label.begin(), label.end());
  info.push_back(0);

  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> ctx(
    EVP_KDF_CTX_new(suite.hkdf.get()), &EVP_KDF_CTX_free);
  STEK_ENSURE(ctx != nullptr, Errc::crypto, openssl_errors("HKDF context"));
  STEK_ENSURE(!secret.empty(), Errc::invalid_argument,
              "HKDF-Expand-Label needs a secret");
  // OSSL_PARAM wants non-const pointers; OpenSSL only reads these.
  int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  std::array<OSSL_PARAM, 5> params = {
    OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
                                     const_cast<char*>(suite.digest), 0),
    OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
    OSSL_PARAM_construct_octet_string(
      OSSL_KDF_PARAM_KEY, const_cast<std::uint8_t*>(secret.reveal().data()),
      secret.size()),
    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info.data(),
                                      info.size()),
    OSSL_PARAM_construct_end(),
  };
  SecretBytes out(length);
  if (EVP_KDF_derive(ctx.get(), out.reveal_mutable().data(), length,
                     params.data()) != 1) {
    return fail(Errc::crypto, openssl_errors("HKDF-Expand-Label failed"));
  }
  return out;
}

Result<TrafficKey> TrafficKey::derive(const Suite& suite, SecretView secret) {
  STEK_ENSURE(secret.size() == suite.hash_size, Errc::invalid_argument,
              "traffic secret of " + std::to_string(secret.size()) +
                " bytes, the suite's hash has " +
                std::to_string(suite.hash_size));
  STEK_TRY_ASSIGN(const SecretBytes key,
                  expand_label(suite, secret, "key", suite.key_size));
  STEK_TRY_ASSIGN(SecretBytes iv, expand_label(suite, secret, "iv", k_iv_size));
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  STEK_ENSURE(ctx != nullptr, Errc::crypto, openssl_errors("cipher context"));
  // Key once; every record then sets only its nonce. Both AEADs default to
  // a 12-byte nonce.
  if (EVP_DecryptInit_ex2(ctx.get(), suite.cipher.get(), key.reveal().data(),
                          nullptr, nullptr) != 1) {
    return fail(Errc::crypto, openssl_errors("cannot key the record cipher"));
  }
  return TrafficKey(std::move(ctx), std::move(iv), SecretBytes::copy_of(secret.reveal()));
}

bool TrafficKey::open(std::span<const std::uint8_t> record,
                      std::vector<std::uint8_t>& out) {
  // The nonce is the IV XOR the 64-bit big-endian sequence number,
  // left-padded to the IV's 12 bytes.
  std::array<std::uint8_t, k_iv_size> nonce{};
  const auto iv = m_iv.reveal();
  for (std::size_t i = 0; i < k_iv_size; ++i) {
    nonce[i] = iv[i];
  }
  for (std::size_t i = 0; i < 8; ++i) {
    nonce[k_iv_size - 1 - i] ^=
      static_cast<std::uint8_t>((m_sequence >> (8 * i)) & 0xFF);
  }
  const auto header = record.first(k_header_size);
  const auto body = record.subspan(k_header_size);
  const auto ciphertext = body.first(body.size() - k_tag_size);
  const auto tag = body.last(k_tag_size);
  // Records are at most 2^14 + 256 bytes (checked by the caller).
  out.resize(ciphertext.size());
  int length = 0;
  int final_length = 0;
  EVP_CIPHER_CTX* ctx = m_ctx.get();
  const bool ok =
    EVP_DecryptInit_ex2(ctx, nullptr, nullptr, nonce.data(), nullptr) == 1 &&
    EVP_DecryptUpdate(ctx, nullptr, &length, header.data(),
                      static_cast<int>(header.size())) == 1 &&
    EVP_DecryptUpdate(ctx, out.data(), &length, ciphertext.data(),
                      static_cast<int>(ciphertext.size())) == 1 &&
    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG,
                        static_cast<int>(tag.size()),
                        const_cast<std::uint8_t*>(tag.data())) == 1 &&
    EVP_DecryptFinal_ex(ctx, out.data() + length, &final_length) == 1;
  if (!ok) {
    // Unauthenticated plaintext is never handed out.
    cleanse(std::span<std::uint8_t>(out));
    out.clear();
    ERR_clear_error();
    return false;
  }
  ++m_sequence;
  return true;
}

} // namespace stek::inspect::tls13
