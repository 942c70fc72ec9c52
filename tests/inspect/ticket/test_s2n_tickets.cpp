// SPDX-License-Identifier: Apache-2.0
// TicketOpener on s2n-tls tickets. Debian has no s2n-tls server, so these are
// built here exactly as reference/s2n-tls.md describes s2n's envelope
// (tls/s2n_resume.c), with OpenSSL's primitives directly:
//   okm = HKDF-SHA256(salt empty, material, info empty, 44)
//   aes_key = okm[0, 32), implicit_aad = okm[32, 44)
//   ticket_key = HKDF-SHA256(salt empty, aes_key, info = ticket info, 32)
//   AES-256-GCM(ticket_key, nonce = iv, aad = implicit_aad || name)
//   ticket = 0x01 | name 16 | info 32 | iv 12 | ciphertext | tag 16
#include "ticket_support.hpp"

#include <stek/inspect/ticket_decode.hpp>

#include <openssl/kdf.h>

using namespace stek;
using namespace stek::inspect;
using namespace stek::test;

namespace {

ByteVector hkdf(std::span<const std::uint8_t> ikm,
                std::span<const std::uint8_t> info,
                std::size_t length) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr);
  REQUIRE(ctx);
  REQUIRE(EVP_PKEY_derive_init(ctx) == 1);
  REQUIRE(EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()) == 1);
  REQUIRE(EVP_PKEY_CTX_set1_hkdf_key(ctx, ikm.data(), static_cast<int>(ikm.size())) == 1);
  if (!info.empty()) {
    REQUIRE(EVP_PKEY_CTX_add1_hkdf_info(ctx, info.data(), static_cast<int>(info.size())) == 1);
  }
  ByteVector out(length);
  std::size_t n = length;
  REQUIRE(EVP_PKEY_derive(ctx, out.data(), &n) == 1);
  REQUIRE(n == length);
  EVP_PKEY_CTX_free(ctx);
  return out;
}

ByteVector s2n_ticket(std::span<const std::uint8_t> material,
                      const KeyId& name,
                      std::span<const std::uint8_t> state) {
  const auto okm = hkdf(material, {}, 44);
  const std::span<const std::uint8_t> aes_key(okm.data(), 32);
  const std::span<const std::uint8_t> implicit_aad(okm.data() + 32, 12);
  const auto info = random_bytes_of(32);
  const auto iv = random_bytes_of(12);
  const auto ticket_key = hkdf(aes_key, info, 32);
  ByteVector aad(implicit_aad.begin(), implicit_aad.end());
  aad.insert(aad.end(), name.bytes().begin(), name.bytes().end());

  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  REQUIRE(EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, ticket_key.data(), iv.data()) == 1);
  int n = 0;
  REQUIRE(EVP_EncryptUpdate(ctx, nullptr, &n, aad.data(), static_cast<int>(aad.size())) == 1);
  ByteVector ct(state.size());
  REQUIRE(EVP_EncryptUpdate(ctx, ct.data(), &n, state.data(), static_cast<int>(state.size())) == 1);
  int tail = 0;
  REQUIRE(EVP_EncryptFinal_ex(ctx, ct.data() + n, &tail) == 1);
  ByteVector tag(16);
  REQUIRE(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag.data()) == 1);
  EVP_CIPHER_CTX_free(ctx);

  ByteVector t{1};
  t.insert(t.end(), name.bytes().begin(), name.bytes().end());
  t.insert(t.end(), info.begin(), info.end());
  t.insert(t.end(), iv.begin(), iv.end());
  t.insert(t.end(), ct.begin(), ct.end());
  t.insert(t.end(), tag.begin(), tag.end());
  return t;
}

void put(ByteVector& out, std::uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
  }
}

constexpr std::uint64_t k_issue_ns = 1795912820123456789ull;

// Format 4: TLS 1.2, 61 bytes.
ByteVector tls12_state(bool ems) {
  ByteVector s{4, 33, 0xC0, 0x2F};
  put(s, k_issue_ns, 8);
  const auto master = random_bytes_of(48);
  s.insert(s.end(), master.begin(), master.end());
  s.push_back(ems ? 1 : 0);
  return s;
}

// Format 2: TLS 1.3, with early data and ALPN when `alpn` is not empty.
ByteVector tls13_state(const std::string& alpn) {
  ByteVector s{2, 34, 0x13, 0x01};
  put(s, k_issue_ns, 8);
  put(s, 0x01020304, 4); // ticket_age_add
  s.push_back(32);
  const auto secret = random_bytes_of(32);
  s.insert(s.end(), secret.begin(), secret.end());
  put(s, k_issue_ns + 604800ull * 1000000000ull, 8); // expiration
  put(s, alpn.empty() ? 0 : 16384, 4);
  if (!alpn.empty()) {
    s.push_back(static_cast<std::uint8_t>(alpn.size()));
    s.insert(s.end(), alpn.begin(), alpn.end());
    put(s, 0, 2);
  }
  return s;
}

} // namespace

TEST_CASE("stek::inspect::TicketOpener opens s2n-tls tickets") {
  const Key key = generated_key();
  Keystore ks;
  ks.keys.push_back(generated_key());
  ks.keys.push_back(key.clone());
  TicketOpener opener(ks);
  auto material = material_for(key, Binding::unbound());
  REQUIRE(material.ok());

  write_fuzz_seed("s2n_state", "tls12-v4", tls12_state(true));
  write_fuzz_seed("s2n_state", "tls13-v2", tls13_state(""));
  write_fuzz_seed("s2n_state", "tls13-v2-early-data", tls13_state("h2"));

  SUBCASE("TLS 1.2, format 4") {
    const auto t = s2n_ticket(material->reveal(), key.id, tls12_state(true));
    CHECK(t.size() == 138);
    const auto guess = classify_ticket(t).front();
    CHECK(guess.format == TicketFormat::s2n);
    CHECK(guess.key_id == key.id);
    const auto r = opener.open(t, std::string("a.example"));
    REQUIRE_MESSAGE(r.status == OpenResult::Status::opened, r.reason);
    CHECK(r.format == TicketFormat::s2n);
    CHECK(r.key_id == key.id);
    CHECK(r.key_index == std::size_t{1});
    CHECK(r.binding == "unbound");
    REQUIRE_MESSAGE(r.session.has_value(), r.session_error);
    CHECK(r.session->encoding == "s2n-tls12-v4");
    CHECK(r.session->protocol == 0x0303);
    CHECK(r.session->cipher_suite == 0xC02F);
    CHECK(r.session->issued == Timestamp(Duration(1795912820)));
    CHECK(r.session->extended_master_secret == true);
    CHECK_FALSE(r.session->lifetime.has_value());

    const auto no_ems = opener.open(s2n_ticket(material->reveal(), key.id, tls12_state(false)),
                                    std::nullopt);
    REQUIRE(no_ems.session.has_value());
    CHECK(no_ems.session->extended_master_secret == false);
  }
  SUBCASE("TLS 1.3, format 2, with and without early data") {
    const auto t = s2n_ticket(material->reveal(), key.id, tls13_state(""));
    CHECK(t.size() == 138);
    const auto r = opener.open(t, std::nullopt);
    REQUIRE_MESSAGE(r.status == OpenResult::Status::opened, r.reason);
    REQUIRE_MESSAGE(r.session.has_value(), r.session_error);
    CHECK(r.session->encoding == "s2n-tls13-v2");
    CHECK(r.session->protocol == 0x0304);
    CHECK(r.session->cipher_suite == 0x1301);
    CHECK(r.session->lifetime == Duration(604800));
    CHECK_FALSE(r.session->alpn.has_value());

    const auto early = opener.open(s2n_ticket(material->reveal(), key.id, tls13_state("h2")),
                                   std::nullopt);
    REQUIRE(early.session.has_value());
    CHECK(early.session->alpn == std::string("h2"));
  }
  SUBCASE("SNI-bound material") {
    auto bound = material_for(key, Binding::server_name("a.example"));
    REQUIRE(bound.ok());
    const auto t = s2n_ticket(bound->reveal(), key.id, tls12_state(true));
    const auto r = opener.open(t, std::string("a.example"));
    REQUIRE_MESSAGE(r.status == OpenResult::Status::opened, r.reason);
    CHECK(r.binding == "sni:a.example");
    CHECK(opener.open(t, std::nullopt).status == OpenResult::Status::mac_failed);
  }
  SUBCASE("a wrong tag, AAD or key") {
    auto t = s2n_ticket(material->reveal(), key.id, tls12_state(true));
    auto bad_tag = t;
    bad_tag.back() ^= 0x01;
    const auto r = opener.open(bad_tag, std::nullopt);
    CHECK(r.status == OpenResult::Status::mac_failed);
    CHECK(r.format == TicketFormat::s2n);
    CHECK(r.key_index == std::size_t{1});
    CHECK(r.reason.find("tag") != std::string::npos);
    auto bad_info = t;
    bad_info[20] ^= 0x01; // the info field feeds the per-ticket key
    CHECK(opener.open(bad_info, std::nullopt).status == OpenResult::Status::mac_failed);
    const auto other = random_bytes_of(32);
    CHECK(opener.open(s2n_ticket(other, key.id, tls12_state(true)), std::nullopt).status ==
          OpenResult::Status::mac_failed);
    Keystore without;
    without.keys.push_back(generated_key());
    TicketOpener o(without);
    CHECK(o.open(t, std::nullopt).status == OpenResult::Status::no_key);
  }
  SUBCASE("a verifying ticket with a state s2n does not write") {
    ByteVector state = tls12_state(true);
    state[0] = 3; // TLS12_V2: no longer written or read
    const auto r = opener.open(s2n_ticket(material->reveal(), key.id, state), std::nullopt);
    CHECK(r.status == OpenResult::Status::opened);
    CHECK_FALSE(r.session.has_value());
    CHECK(r.session_error.find("format") != std::string::npos);
  }
}

TEST_CASE("stek::inspect::TicketOpener opens s2n-tls tickets of the fuzz keystore") {
  Keystore ks;
  ks.keys.push_back(fuzz_generated_key());
  TicketOpener opener(ks);
  auto material = material_for(ks.keys[0], Binding::unbound());
  REQUIRE(material.ok());
  const std::pair<const char*, ByteVector> states[] = {
    {"s2n-tls12", tls12_state(true)}, {"s2n-tls13", tls13_state("h2")}};
  for (const auto& [name, state] : states) {
    const auto t = s2n_ticket(material->reveal(), ks.keys[0].id, state);
    const auto r = opener.open(t, std::nullopt);
    REQUIRE_MESSAGE(r.status == OpenResult::Status::opened, r.reason);
    CHECK(r.session.has_value());
    ByteVector seed{0};
    seed.insert(seed.end(), t.begin(), t.end());
    write_fuzz_seed("ticket_open", name, seed);
  }
}
