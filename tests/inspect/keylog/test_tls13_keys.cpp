// SPDX-License-Identifier: Apache-2.0
// The TLS 1.3 key schedule step against published vectors, records sealed
// here independently of the decryptor, and the seeds of fuzz_tls13_records.
#include "inspect/keylog/tls13_capture.hpp"
#include "inspect/keylog/tls13_keys.hpp"

#include <stek/inspect/keylog.hpp>

#include <openssl/evp.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace stek::test;
using stek::Errc;
using stek::SecretBytes;
using stek::inspect::Keylog;
using stek::inspect::make_keylog_decryptors;
namespace tls13 = stek::inspect::tls13;

Bytes hex(std::string_view text) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < text.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(
      std::stoi(std::string(text.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

Bytes bytes_of(const SecretBytes& secret) {
  return {secret.reveal().begin(), secret.reveal().end()};
}

std::string hex_of(std::span<const std::uint8_t> bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (const std::uint8_t b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

// The fixed key log of fuzz/targets/tls13_records.cpp (same bytes): for
// suite index s (0x1301 + s), client random 32 x (s + 1) has both server
// secrets, client random 32 x (0x11 + s) only the application one.
Bytes fuzz_random(std::size_t s, bool application_only) {
  return Bytes(32, static_cast<std::uint8_t>((application_only ? 0x11 : 0x01) + s));
}
Bytes fuzz_secret(std::size_t s, bool application) {
  Bytes out(s == 1 ? 48 : 32);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<std::uint8_t>((application ? 0x80 : 0) + 0x20 * s + i);
  }
  return out;
}
std::string fuzz_keylog() {
  std::string text = "# fixed key log of fuzz_tls13_records\n";
  for (std::size_t s = 0; s < 3; ++s) {
    text += "SERVER_HANDSHAKE_TRAFFIC_SECRET " + hex_of(fuzz_random(s, false)) +
            " " + hex_of(fuzz_secret(s, false)) + "\n";
    text += "SERVER_TRAFFIC_SECRET_0 " + hex_of(fuzz_random(s, false)) + " " +
            hex_of(fuzz_secret(s, true)) + "\n";
    text += "SERVER_TRAFFIC_SECRET_0 " + hex_of(fuzz_random(s, true)) + " " +
            hex_of(fuzz_secret(s, true)) + "\n";
  }
  return text;
}

// Seal TLSInnerPlaintext `inner` as the record numbered `sequence` under
// `secret`, with EVP directly rather than through the decryptor's code.
Bytes seal(std::uint16_t suite_id, const Bytes& secret, std::uint64_t sequence,
           const Bytes& inner) {
  auto suite = tls13::fetch_suite(suite_id);
  REQUIRE(suite.ok());
  const auto view = stek::SecretView(secret.data(), secret.size());
  auto key = tls13::expand_label(*suite, view, "key", suite->key_size);
  auto iv = tls13::expand_label(*suite, view, "iv", 12);
  REQUIRE((key.ok() && iv.ok()));
  Bytes nonce = bytes_of(*iv);
  for (std::size_t i = 0; i < 8; ++i) {
    nonce[11 - i] ^= static_cast<std::uint8_t>(sequence >> (8 * i));
  }
  const std::size_t length = inner.size() + 16;
  Bytes record(5 + length);
  record[0] = 23;
  record[1] = 3;
  record[2] = 3;
  record[3] = static_cast<std::uint8_t>(length >> 8);
  record[4] = static_cast<std::uint8_t>(length & 0xFF);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int n = 0;
  REQUIRE(EVP_EncryptInit_ex2(ctx, suite->cipher.get(), key->reveal().data(),
                              nonce.data(), nullptr) == 1);
  REQUIRE(EVP_EncryptUpdate(ctx, nullptr, &n, record.data(), 5) == 1);
  REQUIRE(EVP_EncryptUpdate(ctx, record.data() + 5, &n, inner.data(),
                            static_cast<int>(inner.size())) == 1);
  REQUIRE(EVP_EncryptFinal_ex(ctx, record.data() + 5 + n, &n) == 1);
  REQUIRE(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16,
                              record.data() + 5 + inner.size()) == 1);
  EVP_CIPHER_CTX_free(ctx);
  return record;
}

std::unique_ptr<stek::inspect::ServerRecordDecryptor>
fuzz_decryptor(const Keylog& log, std::size_t s, bool application_only) {
  const Bytes random = fuzz_random(s, application_only);
  std::array<std::uint8_t, 32> r{};
  std::copy(random.begin(), random.end(), r.begin());
  auto factory = make_keylog_decryptors(log);
  return factory->for_connection(r, static_cast<std::uint16_t>(0x1301 + s));
}

} // namespace

TEST_CASE("stek::inspect::tls13::expand_label matches RFC 8448 and Go's crypto/tls") {
  // RFC 8448 section 3 (TLS_AES_128_GCM_SHA256): the server's handshake and
  // application traffic secrets and their write keys and IVs.
  auto sha256 = tls13::fetch_suite(0x1301);
  REQUIRE(sha256.ok());
  const struct {
    const char* secret;
    const char* key;
    const char* iv;
  } vectors[] = {
    {"b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38",
     "3fce516009c21727d0f2e4e86ee403bc", "5d313eb2671276ee13000b30"},
    {"a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643",
     "9f02283b6c9c07efc26bb9f2ac92e356", "cf782b88dd83549aadf1e984"},
  };
  for (const auto& v : vectors) {
    const Bytes secret = hex(v.secret);
    const auto view = stek::SecretView(secret.data(), secret.size());
    auto key = tls13::expand_label(*sha256, view, "key", 16);
    auto iv = tls13::expand_label(*sha256, view, "iv", 12);
    REQUIRE((key.ok() && iv.ok()));
    CHECK(bytes_of(*key) == hex(v.key));
    CHECK(bytes_of(*iv) == hex(v.iv));
  }
  // TLS_AES_256_GCM_SHA384: the vector of Go's kTLS tests (secret 00..2f).
  auto sha384 = tls13::fetch_suite(0x1302);
  REQUIRE(sha384.ok());
  Bytes secret(48);
  for (std::size_t i = 0; i < secret.size(); ++i) {
    secret[i] = static_cast<std::uint8_t>(i);
  }
  const auto view = stek::SecretView(secret.data(), secret.size());
  auto key = tls13::expand_label(*sha384, view, "key", 32);
  auto iv = tls13::expand_label(*sha384, view, "iv", 12);
  REQUIRE((key.ok() && iv.ok()));
  CHECK(bytes_of(*key) ==
        hex("6877d022f1c61d24ebb7487c16752d9a4798e40431c75b39320e537c90e23225"));
  CHECK(bytes_of(*iv) == hex("42822531a0fe88648fc09e9f"));
}

TEST_CASE("stek::inspect::tls13::TrafficKey::derive refuses a secret of the wrong size") {
  auto suite = tls13::fetch_suite(0x1302);
  REQUIRE(suite.ok());
  const Bytes secret(32, 7);
  auto key = tls13::TrafficKey::derive(*suite, stek::SecretView(secret.data(), secret.size()));
  REQUIRE_FALSE(key.ok());
  CHECK(key.error().message.find("32 bytes") != std::string::npos);
  CHECK(tls13::fetch_suite(0x1304).error().code == Errc::unsupported);
}

TEST_CASE("stek::inspect::ServerRecordDecryptor::open strips padding to the content type") {
  auto log = Keylog::parse(fuzz_keylog(), "fuzz keylog");
  REQUIRE(log.ok());
  CHECK(log->size() == 9);
  for (std::size_t s = 0; s < 3; ++s) {
    CAPTURE(s);
    const auto suite = static_cast<std::uint16_t>(0x1301 + s);
    const Bytes app = fuzz_secret(s, true);
    auto decryptor = fuzz_decryptor(*log, s, true);
    REQUIRE(decryptor);
    auto padded = decryptor->open(seal(suite, app, 0, {'h', 'i', 0, 23, 0, 0, 0}));
    REQUIRE(padded.ok());
    CHECK(padded->content_type == 23);
    CHECK(padded->plaintext == Bytes{'h', 'i', 0});
    // All padding: no content type at all.
    auto empty = decryptor->open(seal(suite, app, 1, {0, 0, 0, 0}));
    REQUIRE_FALSE(empty.ok());
    CHECK(empty.error().code == Errc::parse);
    // That record authenticated, so the next one is number 2.
    auto next = decryptor->open(seal(suite, app, 2, {1, 0, 21}));
    REQUIRE(next.ok());
    CHECK(next->content_type == 21);
    CHECK(decryptor->open(seal(suite, app, 2, {1, 0, 21})).error().code ==
          Errc::crypto);
  }
}

// Re-seal each server record of real connections under the fixed fuzz key
// log (handshake records under its handshake secret, the rest under its
// application secret, after a KeyUpdate under the next one), check the
// decryptor recovers the tickets, and with STEK_FUZZ_SEEDS_DIR set write
// them as seeds of fuzz_tls13_records (first byte: suite index, +4 for the
// random with only the application secret).
TEST_CASE("stek::inspect::make_keylog_decryptors opens independently sealed records (fuzz seeds)") {
  auto log = Keylog::parse(fuzz_keylog(), "fuzz keylog");
  REQUIRE(log.ok());
  write_keylog_fuzz_seed("keylog", "fuzz-tls13-records",
                         std::span(reinterpret_cast<const std::uint8_t*>(
                                     fuzz_keylog().data()),
                                   fuzz_keylog().size()));
  for (std::size_t s = 0; s < 3; ++s) {
    for (const bool key_update : {false, true}) {
      CAPTURE(s);
      CAPTURE(key_update);
      const auto suite = static_cast<std::uint16_t>(0x1301 + s);
      ConnectionOptions options;
      options.suite = s == 0 ? "TLS_AES_128_GCM_SHA256"
                      : s == 1 ? "TLS_AES_256_GCM_SHA384"
                               : "TLS_CHACHA20_POLY1305_SHA256";
      options.key_update = key_update;
      options.app_data = Bytes(300, 'd');
      const Connection c = run_connection(options);
      const std::string handshake_only = [&] {
        std::string out;
        for (std::size_t at = 0; at < c.keylog.size();) {
          const std::size_t end = c.keylog.find('\n', at);
          const std::string line = c.keylog.substr(at, end - at);
          if (!line.starts_with("SERVER_TRAFFIC_SECRET_0")) {
            out += line + "\n";
          }
          at = end + 1;
        }
        return out;
      }();
      auto real_hs = Keylog::parse(handshake_only, "hs");
      REQUIRE(real_hs.ok());
      const std::size_t handshake_records =
        open_all(*make_keylog_decryptors(*real_hs)->for_connection(c.client_random, c.suite),
                 c.to_client)
          .opened;
      auto real = Keylog::parse(c.keylog, "real");
      REQUIRE(real.ok());
      const Opened opened = open_all(
        *make_keylog_decryptors(*real)->for_connection(c.client_random, c.suite), c.to_client);
      REQUIRE(opened.opened == opened.encrypted);
      REQUIRE(handshake_records >= 1);

      Bytes stream{static_cast<std::uint8_t>(s)};
      Bytes app_stream{static_cast<std::uint8_t>(s + 4)};
      Bytes app_secret = fuzz_secret(s, true);
      std::uint64_t sequence = 0;
      for (std::size_t i = 0; i < opened.inner_records.size(); ++i) {
        const Bytes& inner = opened.inner_records[i];
        const bool handshake_phase = i < handshake_records;
        if (i == handshake_records) {
          sequence = 0;
        }
        const Bytes record = seal(suite, handshake_phase ? fuzz_secret(s, false) : app_secret,
                                  sequence++, inner);
        stream.insert(stream.end(), record.begin(), record.end());
        app_stream.insert(app_stream.end(), record.begin(), record.end());
        if (!handshake_phase && inner.back() == 22 && inner.front() == 24) {
          auto next = tls13::expand_label(*tls13::fetch_suite(suite),
                                          stek::SecretView(app_secret.data(), app_secret.size()),
                                          "traffic upd", app_secret.size());
          REQUIRE(next.ok());
          app_secret = bytes_of(*next);
          sequence = 0;
        }
      }
      for (const bool application_only : {false, true}) {
        auto decryptor = fuzz_decryptor(*log, s, application_only);
        REQUIRE(decryptor);
        const Opened again =
          open_all(*decryptor, std::span<const std::uint8_t>(stream).subspan(1));
        CHECK(again.opened + (application_only ? handshake_records : 0) ==
              opened.encrypted);
        CHECK(again.crypto_failures == (application_only ? handshake_records : 0));
        const auto messages = split_messages(again.handshake);
        CHECK(tickets_in(messages) == c.tickets);
      }
      const std::string name = "suite" + std::to_string(s) + (key_update ? "-keyupdate" : "");
      write_keylog_fuzz_seed("tls13_records", name, stream);
      write_keylog_fuzz_seed("tls13_records", name + "-app-only", app_stream);
    }
  }
}
