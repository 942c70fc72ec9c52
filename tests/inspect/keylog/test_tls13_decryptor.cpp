// SPDX-License-Identifier: Apache-2.0
// make_keylog_decryptors on real TLS 1.3 connections between an OpenSSL
// client and server: the server's records, opened with the client's key
// log, hold the NewSessionTickets the client received, byte for byte.
#include "inspect/keylog/tls13_capture.hpp"

#include <stek/inspect/keylog.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace stek::test;
using stek::Errc;
using stek::inspect::Keylog;
using stek::inspect::make_keylog_decryptors;

struct SuiteCase {
  const char* name;
  std::uint16_t id;
};
constexpr SuiteCase k_suites[] = {
  {"TLS_AES_128_GCM_SHA256", 0x1301},
  {"TLS_AES_256_GCM_SHA384", 0x1302},
  {"TLS_CHACHA20_POLY1305_SHA256", 0x1303},
};

// Return `keylog` without the lines whose label is `label`.
std::string without(const std::string& keylog, std::string_view label) {
  std::istringstream in(keylog);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with(std::string(label) + " ")) {
      out += line + "\n";
    }
  }
  return out;
}

// Return `keylog` with the first hex digit of each `label` secret changed.
std::string corrupted(const std::string& keylog, std::string_view label) {
  std::istringstream in(keylog);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(std::string(label) + " ")) {
      const std::size_t secret = line.rfind(' ') + 1;
      line[secret] = line[secret] == '0' ? '1' : '0';
    }
    out += line + "\n";
  }
  return out;
}

std::vector<std::uint8_t> types_of(const std::vector<HandshakeMessage>& messages) {
  std::vector<std::uint8_t> out;
  for (const auto& m : messages) {
    out.push_back(m.type);
  }
  return out;
}

std::size_t body_bytes(std::span<const std::uint8_t> stream) {
  std::size_t total = 0;
  for (const auto& record : split_records(stream)) {
    if (record.type == 23) {
      total += record.bytes.size() - 5 - 16;
    }
  }
  return total;
}

// Check the connection's own view: the ClientHello random on the wire is
// the one SSL_get_client_random reports, and the ServerHello chose `suite`.
void check_wire(const Connection& c, std::uint16_t suite) {
  const auto hello = split_records(c.to_server).at(0);
  REQUIRE(hello.type == 22);
  REQUIRE(hello.bytes.size() > 43);
  REQUIRE(hello.bytes[5] == 1);
  CHECK(std::equal(c.client_random.begin(), c.client_random.end(),
                   hello.bytes.begin() + 11));
  const auto server_hello = split_records(c.to_client).at(0);
  REQUIRE(server_hello.type == 22);
  REQUIRE(server_hello.bytes[5] == 2);
  const std::size_t at = 44 + server_hello.bytes[43];
  REQUIRE(server_hello.bytes.size() > at + 1);
  CHECK(((server_hello.bytes[at] << 8) | server_hello.bytes[at + 1]) == suite);
  CHECK(c.suite == suite);
}

// Return a record of type 23 whose header says `length` and whose body has
// `size` bytes.
Bytes header_and_body(std::size_t length, std::size_t size) {
  Bytes out(5 + size);
  out[0] = 23;
  out[1] = 3;
  out[2] = 3;
  out[3] = static_cast<std::uint8_t>(length >> 8);
  out[4] = static_cast<std::uint8_t>(length & 0xFF);
  return out;
}

Opened open_with(const Connection& c, const std::string& keylog_text) {
  auto keylog = Keylog::parse(keylog_text, "callback");
  REQUIRE(keylog.ok());
  auto factory = make_keylog_decryptors(*keylog);
  auto decryptor = factory->for_connection(c.client_random, c.suite);
  REQUIRE(decryptor);
  return open_all(*decryptor, c.to_client);
}

} // namespace

TEST_CASE("stek::inspect::make_keylog_decryptors opens every server record of a TLS 1.3 connection") {
  for (const SuiteCase& suite : k_suites) {
    for (const std::size_t padding : {std::size_t{0}, std::size_t{512}}) {
      const std::string name = suite.name;
    CAPTURE(name);
      CAPTURE(padding);
      ConnectionOptions options;
      options.suite = suite.name;
      options.block_padding = padding;
      const Connection c = run_connection(options);
      check_wire(c, suite.id);
      // OpenSSL sends two tickets after a full handshake by default.
      REQUIRE(c.tickets.size() == 2);
      CHECK(c.tickets.back() == c.last_session_ticket);
      CHECK(c.tickets[0] != c.tickets[1]);
      CHECK(c.app_received == options.app_data);

      const Opened opened = open_with(c, c.keylog);
      CHECK(opened.encrypted >= 5);
      CHECK(opened.opened == opened.encrypted);
      CHECK(opened.crypto_failures == 0);
      CHECK(opened.other_failures == 0);
      const auto messages = split_messages(opened.handshake);
      // EncryptedExtensions, Certificate, CertificateVerify, Finished under
      // the handshake key; two NewSessionTickets under the application key.
      CHECK(types_of(messages) == std::vector<std::uint8_t>{8, 11, 15, 20, 4, 4});
      CHECK(tickets_in(messages) == c.tickets);
      CHECK(opened.application == options.app_data);
      CHECK(opened.alert == Bytes{1, 0}); // close_notify
      // With block padding the records carry zeros that open() stripped.
      std::size_t inner = 0;
      for (const auto& record : opened.inner_records) {
        inner += record.size();
      }
      if (padding == 0) {
        CHECK(body_bytes(c.to_client) == inner);
      } else {
        CHECK(body_bytes(c.to_client) > inner + 512);
      }
    }
  }
}

TEST_CASE("stek::inspect::make_keylog_decryptors follows a KeyUpdate to the next tickets") {
  for (const SuiteCase& suite : k_suites) {
    const std::string name = suite.name;
    CAPTURE(name);
    ConnectionOptions options;
    options.suite = suite.name;
    options.key_update = true;
    const Connection c = run_connection(options);
    REQUIRE(c.tickets.size() == 3);
    const Opened opened = open_with(c, c.keylog);
    CHECK(opened.opened == opened.encrypted);
    const auto messages = split_messages(opened.handshake);
    CHECK(types_of(messages) ==
          std::vector<std::uint8_t>{8, 11, 15, 20, 4, 4, 24, 4});
    CHECK(tickets_in(messages) == c.tickets);
    Bytes expected = options.app_data;
    expected.insert(expected.end(), {'a', 'f', 't', 'e', 'r'});
    CHECK(opened.application == expected);
  }
}

TEST_CASE("stek::inspect::make_keylog_decryptors finds the tickets without the handshake secret") {
  for (const SuiteCase& suite : k_suites) {
    const std::string name = suite.name;
    CAPTURE(name);
    ConnectionOptions options;
    options.suite = suite.name;
    const Connection c = run_connection(options);
    const std::string keylog = without(c.keylog, "SERVER_HANDSHAKE_TRAFFIC_SECRET");
    REQUIRE(keylog.size() < c.keylog.size());
    const Opened opened = open_with(c, keylog);
    // The handshake records cannot be opened; everything after can.
    CHECK(opened.crypto_failures >= 1);
    CHECK(opened.other_failures == 0);
    CHECK(opened.opened + opened.crypto_failures == opened.encrypted);
    const auto messages = split_messages(opened.handshake);
    CHECK(types_of(messages) == std::vector<std::uint8_t>{4, 4});
    CHECK(tickets_in(messages) == c.tickets);
    CHECK(opened.application == options.app_data);
  }
}

TEST_CASE("stek::inspect::make_keylog_decryptors with only the handshake secret opens the handshake") {
  const Connection c = run_connection({});
  const Opened opened = open_with(c, without(c.keylog, "SERVER_TRAFFIC_SECRET_0"));
  CHECK(types_of(split_messages(opened.handshake)) ==
        std::vector<std::uint8_t>{8, 11, 15, 20});
  CHECK(opened.application.empty());
  CHECK(opened.crypto_failures >= 3); // tickets, data, close_notify
  CHECK(opened.opened + opened.crypto_failures == opened.encrypted);
}

TEST_CASE("stek::inspect::ServerRecordDecryptor::open fails with Errc::crypto under a wrong secret") {
  const Connection c = run_connection({});
  const std::string keylog =
    corrupted(corrupted(c.keylog, "SERVER_HANDSHAKE_TRAFFIC_SECRET"),
              "SERVER_TRAFFIC_SECRET_0");
  REQUIRE(keylog != c.keylog);
  auto log = Keylog::parse(keylog, "wrong");
  REQUIRE(log.ok());
  auto decryptor = make_keylog_decryptors(*log)->for_connection(c.client_random, c.suite);
  REQUIRE(decryptor);
  std::size_t failures = 0;
  for (const auto& record : split_records(c.to_client)) {
    if (record.type != 23) {
      continue;
    }
    auto inner = decryptor->open(record.bytes);
    REQUIRE_FALSE(inner.ok());
    CHECK(inner.error().code == Errc::crypto);
    ++failures;
  }
  CHECK(failures >= 5);
}

TEST_CASE("stek::inspect::ServerRecordDecryptor::open rejects a damaged record and goes on") {
  const Connection c = run_connection({});
  auto log = Keylog::parse(c.keylog, "callback");
  REQUIRE(log.ok());
  auto decryptor = make_keylog_decryptors(*log)->for_connection(c.client_random, c.suite);
  REQUIRE(decryptor);
  std::vector<Bytes> tickets;
  for (const auto& record : split_records(c.to_client)) {
    if (record.type != 23) {
      continue;
    }
    // A damaged copy first (a flipped ciphertext bit, then a flipped header
    // bit, which is authenticated data): refused, and nothing advances.
    for (const std::size_t at : {std::size_t{5}, std::size_t{2}}) {
      Bytes damaged(record.bytes.begin(), record.bytes.end());
      damaged[at] ^= 0x01;
      auto bad = decryptor->open(damaged);
      REQUIRE_FALSE(bad.ok());
      CHECK(bad.error().code == Errc::crypto);
    }
    auto inner = decryptor->open(record.bytes);
    REQUIRE(inner.ok());
    if (inner->content_type == 22 && inner->plaintext.at(0) == 4) {
      tickets.push_back(
        ticket_of(Bytes(inner->plaintext.begin() + 4, inner->plaintext.end())));
    }
  }
  CHECK(tickets == c.tickets);
}

TEST_CASE("stek::inspect::ServerRecordDecryptor::open rejects records that are not TLS 1.3 ciphertext") {
  const Connection c = run_connection({});
  auto log = Keylog::parse(c.keylog, "callback");
  REQUIRE(log.ok());
  auto decryptor = make_keylog_decryptors(*log)->for_connection(c.client_random, c.suite);
  REQUIRE(decryptor);
  Bytes record;
  SUBCASE("shorter than a header") { record = {23, 3, 3}; }
  SUBCASE("a plaintext handshake record") {
    const auto hello = split_records(c.to_client).at(0);
    record.assign(hello.bytes.begin(), hello.bytes.end());
  }
  SUBCASE("length field disagrees") { record = header_and_body(40, 25); }
  SUBCASE("no room for a tag and a type") { record = header_and_body(16, 16); }
  SUBCASE("over 2^14 + 256 bytes") { record = header_and_body(0x4101, 0x4101); }
  auto inner = decryptor->open(record);
  REQUIRE_FALSE(inner.ok());
  CHECK(inner.error().code == Errc::parse);
}

TEST_CASE("stek::inspect::RecordDecryptorFactory::for_connection returns null without usable secrets") {
  const Connection c = run_connection({.suite = "TLS_AES_256_GCM_SHA384"});
  auto log = Keylog::parse(c.keylog, "callback");
  REQUIRE(log.ok());
  auto factory = make_keylog_decryptors(*log);
  CHECK(factory->for_connection(c.client_random, 0x1302) != nullptr);
  SUBCASE("another client random") {
    auto random = c.client_random;
    random[31] ^= 1;
    CHECK(factory->for_connection(random, 0x1302) == nullptr);
  }
  SUBCASE("unsupported suites") {
    for (const std::uint16_t suite :
         {std::uint16_t{0x1304}, std::uint16_t{0x1305}, std::uint16_t{0xC02F},
          std::uint16_t{0x0000}}) {
      CHECK(factory->for_connection(c.client_random, suite) == nullptr);
    }
  }
  SUBCASE("secrets of SHA-384 for a SHA-256 suite") {
    CHECK(factory->for_connection(c.client_random, 0x1301) == nullptr);
    CHECK(factory->for_connection(c.client_random, 0x1303) == nullptr);
  }
  SUBCASE("only the client's secrets") {
    auto client_only = Keylog::parse(
      without(without(c.keylog, "SERVER_HANDSHAKE_TRAFFIC_SECRET"),
              "SERVER_TRAFFIC_SECRET_0"),
      "client only");
    REQUIRE(client_only.ok());
    CHECK(client_only->size() >= 3);
    CHECK(make_keylog_decryptors(*client_only)->for_connection(c.client_random, 0x1302) ==
          nullptr);
  }
}
