// SPDX-License-Identifier: Apache-2.0
#include "ticket_crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <climits>
#include <memory>

namespace stek::inspect::detail {
namespace {

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

constexpr std::size_t k_block = 16;
// Tickets are at most 65535 bytes on the wire; stay far from INT_MAX.
constexpr std::size_t k_max_input = 1u << 24;

int int_size(std::size_t size) { return static_cast<int>(size); }

// Run `data` through an initialised `ctx` into a fresh SecretBytes of
// `data.size() + k_block` bytes, then copy out the produced prefix.
std::optional<SecretBytes> run_cipher(EVP_CIPHER_CTX* ctx,
                                      std::span<const std::uint8_t> data) {
  SecretBytes buffer(data.size() + k_block);
  int produced = 0;
  int tail = 0;
  std::uint8_t* out = buffer.reveal_mutable().data();
  if (!data.empty() &&
      EVP_DecryptUpdate(ctx, out, &produced, data.data(), int_size(data.size())) != 1) {
    return std::nullopt;
  }
  if (EVP_DecryptFinal_ex(ctx, out + produced, &tail) != 1) {
    return std::nullopt;
  }
  const auto total = static_cast<std::size_t>(produced) + static_cast<std::size_t>(tail);
  return SecretBytes::copy_of(buffer.reveal().first(total));
}

} // namespace

std::optional<Sha256Mac> hmac_sha256(std::span<const std::uint8_t> key,
                                     std::span<const std::uint8_t> data) {
  if (key.empty() || key.size() > k_max_input || data.size() > k_max_input) {
    return std::nullopt;
  }
  Sha256Mac mac{};
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key.data(), int_size(key.size()), data.data(),
           data.size(), mac.data(), &length) == nullptr ||
      length != mac.size()) {
    return std::nullopt;
  }
  return mac;
}

bool hmac_sha256_verifies(std::span<const std::uint8_t> key,
                          std::span<const std::uint8_t> data,
                          std::span<const std::uint8_t> tag) {
  if (tag.size() != std::tuple_size_v<Sha256Mac>) {
    return false;
  }
  const auto mac = hmac_sha256(key, data);
  return mac && CRYPTO_memcmp(mac->data(), tag.data(), mac->size()) == 0;
}

std::optional<SecretBytes> aes_cbc_decrypt(SecretView key,
                                           std::span<const std::uint8_t> iv,
                                           std::span<const std::uint8_t> ciphertext) {
  const EVP_CIPHER* cipher = key.size() == 32   ? EVP_aes_256_cbc()
                             : key.size() == 16 ? EVP_aes_128_cbc()
                                                : nullptr;
  if (cipher == nullptr || iv.size() != k_block || ciphertext.empty() ||
      ciphertext.size() % k_block != 0 || ciphertext.size() > k_max_input) {
    return std::nullopt;
  }
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), cipher, nullptr,
                                 key.reveal().data(), iv.data()) != 1) {
    return std::nullopt;
  }
  return run_cipher(ctx.get(), ciphertext);
}

std::optional<SecretBytes> aes128_ctr(SecretView key,
                                      std::span<const std::uint8_t> iv,
                                      std::span<const std::uint8_t> data) {
  if (key.size() != 16 || iv.size() != k_block || data.size() > k_max_input) {
    return std::nullopt;
  }
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_128_ctr(), nullptr,
                                 key.reveal().data(), iv.data()) != 1) {
    return std::nullopt;
  }
  return run_cipher(ctx.get(), data);
}

std::optional<SecretBytes> aes256_gcm_open(SecretView key,
                                           std::span<const std::uint8_t> nonce,
                                           std::span<const std::uint8_t> aad,
                                           std::span<const std::uint8_t> ciphertext,
                                           std::span<const std::uint8_t> tag) {
  if (key.size() != 32 || nonce.size() != 12 || tag.size() != 16 ||
      aad.size() > k_max_input || ciphertext.size() > k_max_input) {
    return std::nullopt;
  }
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                         key.reveal().data(), nonce.data()) != 1) {
    return std::nullopt;
  }
  int ignored = 0;
  if (!aad.empty() && EVP_DecryptUpdate(ctx.get(), nullptr, &ignored,
                                        aad.data(), int_size(aad.size())) != 1) {
    return std::nullopt;
  }
  // OpenSSL only reads the tag; the control call takes a non-const pointer.
  std::array<std::uint8_t, 16> expected{};
  std::copy(tag.begin(), tag.end(), expected.begin());
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, int_size(tag.size()),
                          expected.data()) != 1) {
    return std::nullopt;
  }
  return run_cipher(ctx.get(), ciphertext);
}

} // namespace stek::inspect::detail
