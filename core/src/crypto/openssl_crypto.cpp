// SPDX-License-Identifier: Apache-2.0
#include "openssl_errors.hpp"

#include <stek/crypto.hpp>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <climits>
#include <memory>
#include <string>

namespace stek {
namespace {

struct KdfDeleter {
  void operator()(EVP_KDF* kdf) const { EVP_KDF_free(kdf); }
};
struct KdfCtxDeleter {
  void operator()(EVP_KDF_CTX* ctx) const { EVP_KDF_CTX_free(ctx); }
};

using detail::openssl_errors;

} // namespace

std::string detail::openssl_errors(std::string_view what) {
  std::string message(what);
  while (const unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    message += ": ";
    message += buffer;
  }
  return message;
}

Result<void> random_bytes(std::span<std::uint8_t> out) {
  // RAND_bytes takes an int length; a keystore never asks for that much.
  STEK_ENSURE(out.size() <= static_cast<std::size_t>(INT_MAX),
              Errc::invalid_argument, "random request too large");
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    return fail(Errc::crypto, openssl_errors("RAND_bytes failed"));
  }
  return {};
}

Result<SecretBytes> random_secret(std::size_t size) {
  SecretBytes out(size);
  STEK_TRY(random_bytes(out.reveal_mutable()));
  return out;
}

Result<SecretBytes> hkdf_sha256(SecretView ikm,
                                std::span<const std::uint8_t> salt,
                                std::span<const std::uint8_t> info,
                                std::size_t length) {
  std::unique_ptr<EVP_KDF, KdfDeleter> kdf(
    EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  STEK_ENSURE(kdf != nullptr, Errc::crypto, openssl_errors("HKDF unavailable"));
  std::unique_ptr<EVP_KDF_CTX, KdfCtxDeleter> ctx(EVP_KDF_CTX_new(kdf.get()));
  STEK_ENSURE(ctx != nullptr, Errc::crypto, openssl_errors("HKDF context"));

  STEK_ENSURE(!ikm.empty(), Errc::invalid_argument, "HKDF needs key material");
  // OSSL_PARAM wants non-const pointers; OpenSSL only reads these. Empty salt
  // and info are left out: OpenSSL then uses the RFC 5869 defaults.
  char digest[] = "SHA256";
  OSSL_PARAM params[5];
  std::size_t n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string("digest", digest, 0);
  params[n++] = OSSL_PARAM_construct_octet_string(
    "key", const_cast<std::uint8_t*>(ikm.reveal().data()), ikm.size());
  if (!salt.empty()) {
    params[n++] = OSSL_PARAM_construct_octet_string(
      "salt", const_cast<std::uint8_t*>(salt.data()), salt.size());
  }
  if (!info.empty()) {
    params[n++] = OSSL_PARAM_construct_octet_string(
      "info", const_cast<std::uint8_t*>(info.data()), info.size());
  }
  params[n] = OSSL_PARAM_construct_end();
  SecretBytes out(length);
  if (EVP_KDF_derive(ctx.get(), out.reveal_mutable().data(), length, params) !=
      1) {
    return fail(Errc::crypto, openssl_errors("HKDF-SHA256 failed"));
  }
  return out;
}

Sha256Digest sha256(std::span<const std::uint8_t> data) {
  Sha256Digest digest{};
  unsigned int size = 0;
  // SHA-256 of an in-memory buffer cannot fail short of memory exhaustion.
  EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(),
             nullptr);
  return digest;
}

SecretBytes sha512(SecretView secret) {
  SecretBytes digest(64);
  unsigned int size = 0;
  EVP_Digest(secret.reveal().data(), secret.size(),
             digest.reveal_mutable().data(), &size, EVP_sha512(), nullptr);
  return digest;
}

} // namespace stek
