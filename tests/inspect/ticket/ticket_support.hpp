// SPDX-License-Identifier: Apache-2.0
// Shared helpers of the ticket tests: keystores, OpenSSL servers keyed from
// keystore keys, and the raw primitives tests use to build tickets by hand
// (independently of the library's own code).
#pragma once
#include "provider/tls_pair.hpp"
#include "support/keys.hpp"

#include <stek/derive.hpp>
#include <stek/inspect/ticket_decode.hpp>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <vector>

namespace stek::test {

using ByteVector = std::vector<std::uint8_t>;

inline Key generated_key() {
  return make_key(at("2026-11-28T14:00:00Z"), at("2026-11-28T14:00:00Z"),
                  at("2026-11-29T02:00:00Z"), at("2026-11-30T02:00:00Z"));
}

// A key imported from an OpenSSL-family file with `size`-byte AES and HMAC
// keys.
inline Key imported_key(std::size_t size, std::string origin) {
  Key key = generated_key();
  auto aes = random_secret(size);
  auto hmac = random_secret(size);
  REQUIRE(aes.ok());
  REQUIRE(hmac.ok());
  key.secret = ImportedKeys{std::move(aes).value(), std::move(hmac).value()};
  key.origin = std::move(origin);
  return key;
}

inline ByteVector random_bytes_of(std::size_t size) {
  ByteVector out(size);
  REQUIRE(RAND_bytes(out.data(), static_cast<int>(size)) == 1);
  return out;
}

inline ByteVector ticket_of(const SSL_SESSION* session) {
  const unsigned char* data = nullptr;
  std::size_t size = 0;
  SSL_SESSION_get0_ticket(session, &data, &size);
  REQUIRE(size > 0);
  return {data, data + size};
}

// Give `ctx` the 80-byte OpenSSL ticket keys name | HMAC | AES.
inline void set_ticket_keys(SSL_CTX* ctx, const KeyId& name, const OpensslKeys& keys) {
  REQUIRE(keys.aes.size() == 32);
  REQUIRE(keys.hmac.size() == 32);
  ByteVector blob(name.bytes().begin(), name.bytes().end());
  blob.insert(blob.end(), keys.hmac.reveal().begin(), keys.hmac.reveal().end());
  blob.insert(blob.end(), keys.aes.reveal().begin(), keys.aes.reveal().end());
  // SSL_CTX_set_tlsext_ticket_keys is a macro with a C cast.
  REQUIRE(SSL_CTX_ctrl(ctx, SSL_CTRL_SET_TLSEXT_TICKET_KEYS, 80, blob.data()) == 1);
}

// Keys for the AES-128-CBC ticket callback (as nginx uses with 48-byte
// files). One set at a time: tests are single-threaded.
struct CallbackKeys {
  KeyId name;
  ByteVector aes;
  ByteVector hmac;
};
inline CallbackKeys& callback_keys() {
  static CallbackKeys keys;
  return keys;
}

inline int aes128_ticket_callback(SSL*,
                                  unsigned char* name,
                                  unsigned char* iv,
                                  EVP_CIPHER_CTX* cipher,
                                  EVP_MAC_CTX* mac,
                                  int enc) {
  const CallbackKeys& keys = callback_keys();
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
    OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY,
                                      const_cast<std::uint8_t*>(keys.hmac.data()),
                                      keys.hmac.size()),
    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
    OSSL_PARAM_construct_end()};
  if (enc == 1) {
    std::memcpy(name, keys.name.bytes().data(), 16);
    if (RAND_bytes(iv, 16) != 1 ||
        EVP_EncryptInit_ex(cipher, EVP_aes_128_cbc(), nullptr, keys.aes.data(), iv) != 1 ||
        EVP_MAC_CTX_set_params(mac, params) != 1) {
      return -1;
    }
    return 1;
  }
  if (std::memcmp(name, keys.name.bytes().data(), 16) != 0) {
    return 0;
  }
  if (EVP_DecryptInit_ex(cipher, EVP_aes_128_cbc(), nullptr, keys.aes.data(), iv) != 1 ||
      EVP_MAC_CTX_set_params(mac, params) != 1) {
    return -1;
  }
  return 1;
}

inline void use_aes128_callback(SSL_CTX* ctx, const KeyId& name,
                                std::span<const std::uint8_t> aes,
                                std::span<const std::uint8_t> hmac) {
  callback_keys() = {name, ByteVector(aes.begin(), aes.end()),
                     ByteVector(hmac.begin(), hmac.end())};
  REQUIRE(SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, aes128_ticket_callback) == 1);
}

inline ByteVector hmac_sha256_of(std::span<const std::uint8_t> key,
                                 std::span<const std::uint8_t> data) {
  ByteVector out(32);
  unsigned int length = 0;
  REQUIRE(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(),
               data.size(), out.data(), &length) != nullptr);
  return out;
}

// Run `cipher` (encrypting) over `data` with padding on or off.
inline ByteVector encrypt_with(const EVP_CIPHER* cipher,
                               std::span<const std::uint8_t> key,
                               std::span<const std::uint8_t> iv,
                               std::span<const std::uint8_t> data,
                               bool padding = true) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  REQUIRE(ctx);
  REQUIRE(EVP_EncryptInit_ex(ctx, cipher, nullptr, key.data(), iv.data()) == 1);
  EVP_CIPHER_CTX_set_padding(ctx, padding ? 1 : 0);
  ByteVector out(data.size() + 32);
  int n = 0;
  int tail = 0;
  REQUIRE(EVP_EncryptUpdate(ctx, out.data(), &n, data.data(),
                            static_cast<int>(data.size())) == 1);
  REQUIRE(EVP_EncryptFinal_ex(ctx, out.data() + n, &tail) == 1);
  EVP_CIPHER_CTX_free(ctx);
  out.resize(static_cast<std::size_t>(n + tail));
  return out;
}

// Build an OpenSSL-format ticket name | IV | CBC(plaintext) | HMAC.
inline ByteVector openssl_ticket(const KeyId& name,
                                 std::span<const std::uint8_t> aes,
                                 std::span<const std::uint8_t> hmac,
                                 std::span<const std::uint8_t> plaintext,
                                 bool padding = true) {
  const auto iv = random_bytes_of(16);
  const EVP_CIPHER* cipher = aes.size() == 32 ? EVP_aes_256_cbc() : EVP_aes_128_cbc();
  ByteVector t(name.bytes().begin(), name.bytes().end());
  t.insert(t.end(), iv.begin(), iv.end());
  const auto ct = encrypt_with(cipher, aes, iv, plaintext, padding);
  t.insert(t.end(), ct.begin(), ct.end());
  const auto mac = hmac_sha256_of(hmac, t);
  t.insert(t.end(), mac.begin(), mac.end());
  return t;
}

inline std::int64_t unix_now() { return static_cast<std::int64_t>(std::time(nullptr)); }

inline std::int64_t unix_of(Timestamp t) {
  return t.time_since_epoch().count();
}

// The generated key of fuzz/targets/ticket_open.cpp's fixed keystore (its
// second key): id A0+16.. is the imported one, this is B0 B1 .. BF with
// material 01 02 .. 20.
inline Key fuzz_generated_key() {
  KeyId::Bytes id{};
  SecretBytes material(32);
  for (std::size_t i = 0; i < 32; ++i) {
    material.reveal_mutable()[i] = static_cast<std::uint8_t>(0x01 + i);
    if (i < id.size()) {
      id[i] = static_cast<std::uint8_t>(0xB0 + i);
    }
  }
  const Timestamp t(Duration(1795910400));
  return Key{KeyId(id), t, t, t, t, {}, Material{std::move(material)}, std::nullopt, std::nullopt};
}

// Decrypt `data` with `cipher` (padding as the cipher has it).
inline ByteVector decrypt_with(const EVP_CIPHER* cipher,
                               std::span<const std::uint8_t> key,
                               std::span<const std::uint8_t> iv,
                               std::span<const std::uint8_t> data) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  REQUIRE(ctx);
  REQUIRE(EVP_DecryptInit_ex(ctx, cipher, nullptr, key.data(), iv.data()) == 1);
  ByteVector out(data.size() + 32);
  int n = 0;
  int tail = 0;
  REQUIRE(EVP_DecryptUpdate(ctx, out.data(), &n, data.data(),
                            static_cast<int>(data.size())) == 1);
  REQUIRE(EVP_DecryptFinal_ex(ctx, out.data() + n, &tail) == 1);
  EVP_CIPHER_CTX_free(ctx);
  out.resize(static_cast<std::size_t>(n + tail));
  return out;
}

// With STEK_FUZZ_SEEDS_DIR set, write `bytes` as seed `name` of fuzz target
// `target` (fuzz/corpus/<target>/ when pointed at fuzz/corpus): the seed
// corpora are the real tickets and plaintexts these tests produce.
inline void write_fuzz_seed(const std::string& target,
                            const std::string& name,
                            std::span<const std::uint8_t> bytes) {
  const char* dir = std::getenv("STEK_FUZZ_SEEDS_DIR");
  if (dir == nullptr || *dir == 0) {
    return;
  }
  const auto path = std::filesystem::path(dir) / target;
  std::filesystem::create_directories(path);
  std::ofstream out(path / name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

inline void write_fuzz_seed(const std::string& target,
                            const std::string& name,
                            std::string_view text) {
  write_fuzz_seed(target, name,
                  std::span(reinterpret_cast<const std::uint8_t*>(text.data()),
                            text.size()));
}

} // namespace stek::test
