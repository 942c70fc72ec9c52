// SPDX-License-Identifier: Apache-2.0
// TicketOpener on tickets Go 1.19's crypto/tls minted (go_ticket.go, run with
// `go run`), TLS 1.2 and 1.3, with and without a client certificate; and on
// Go 1.21+-style unnamed tickets rebuilt from them.
#include "ticket_support.hpp"

#include <stek/encoding.hpp>
#include <stek/inspect/ticket_decode.hpp>

#include <openssl/sha.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sstream>

using namespace stek;
using namespace stek::inspect;
using namespace stek::test;

namespace {

struct GoTicket {
  std::string version; // "tls12", "tls13"
  bool client_cert = false;
  ByteVector ticket;
  std::uint16_t suite = 0;
  std::int64_t before = 0;
  std::int64_t after = 0;
};

// Run go_ticket.go with the 32-byte `seed` and `sni`; return its four
// tickets.
std::vector<GoTicket> run_go(std::span<const std::uint8_t> seed, const std::string& sni) {
  const std::string go = STEK_GO_EXECUTABLE;
  REQUIRE_MESSAGE(!go.empty(), "Go (golang-go) is needed for the Go ticket tests");
  const auto cwd = std::filesystem::current_path().string();
  const std::string command =
    "HOME='" + cwd + "/gohome' GOCACHE='" + cwd + "/gocache' GOFLAGS= GOPATH='" +
    cwd + "/gopath' GO111MODULE=auto '" + go + "' run '" STEK_TICKET_TEST_DIR
    "/go_ticket.go' " + hex_encode(seed) + " " + sni;
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char buffer[4096];
  while (const std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) {
    output.append(buffer, n);
  }
  REQUIRE_MESSAGE(::pclose(pipe) == 0, "go run go_ticket.go failed: " << output);
  std::vector<GoTicket> out;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    GoTicket t;
    std::string cert;
    std::string hex;
    unsigned suite = 0;
    REQUIRE(static_cast<bool>(fields >> t.version >> cert >> hex >> suite >> t.before >> t.after));
    t.client_cert = cert == "true";
    auto bytes = hex_decode(hex);
    REQUIRE(bytes.ok());
    t.ticket = std::move(bytes).value();
    t.suite = static_cast<std::uint16_t>(suite);
    out.push_back(std::move(t));
  }
  REQUIRE(out.size() == 4);
  return out;
}

// SHA-512 of the seed, computed here apart from the library: name 0-15,
// AES 16-31, HMAC 32-47.
ByteVector go_keys(std::span<const std::uint8_t> seed) {
  ByteVector h(64);
  SHA512(seed.data(), seed.size(), h.data());
  return h;
}

KeyId go_name(std::span<const std::uint8_t> seed) {
  const auto h = go_keys(seed);
  KeyId::Bytes b{};
  std::copy_n(h.begin(), 16, b.begin());
  return KeyId(b);
}

// Rebuild a Go 1.19 ticket in Go 1.21's layout: drop the name and MAC
// IV | ciphertext again.
ByteVector unnamed(const ByteVector& named, std::span<const std::uint8_t> seed) {
  const auto h = go_keys(seed);
  ByteVector t(named.begin() + 16, named.end() - 32);
  const auto mac = hmac_sha256_of(std::span(h).subspan(32, 16), t);
  t.insert(t.end(), mac.begin(), mac.end());
  return t;
}

void check_go_session(const OpenResult& r, const GoTicket& t) {
  REQUIRE_MESSAGE(r.session.has_value(), r.session_error);
  const SessionFacts& s = *r.session;
  CHECK(s.encoding == (t.version == "tls12" ? "go-tls12" : "go-tls13"));
  CHECK(s.protocol == (t.version == "tls12" ? 0x0303 : 0x0304));
  CHECK(s.cipher_suite == t.suite);
  REQUIRE(s.issued.has_value());
  CHECK(unix_of(*s.issued) >= t.before);
  CHECK(unix_of(*s.issued) <= t.after);
  CHECK(s.client_certificate == t.client_cert);
  CHECK_FALSE(s.sni.has_value());
  CHECK_FALSE(s.lifetime.has_value());
}

std::vector<Key> with_decoy(const Key& key) {
  std::vector<Key> v;
  v.push_back(generated_key());
  v.push_back(key.clone());
  return v;
}

} // namespace

TEST_CASE("stek::inspect::TicketOpener opens Go 1.19 tickets") {
  const Key key = generated_key();
  auto seed = material_for(key, Binding::unbound());
  REQUIRE(seed.ok());
  const auto tickets = run_go(seed->reveal(), "a.example");
  Keystore ks;
  ks.keys = with_decoy(key);
  TicketOpener opener(ks);
  const KeyId name = go_name(seed->reveal());
  CHECK(name != key.id);
  for (const auto& t : tickets) {
    CAPTURE(t.version);
    CAPTURE(t.client_cert);
    CHECK(classify_ticket(t.ticket).front().format ==
          ((t.ticket.size() - 64) % 16 == 0 ? TicketFormat::openssl
                                             : TicketFormat::go_named));
    const auto r = opener.open(t.ticket, std::string("a.example"));
    REQUIRE_MESSAGE(r.status == OpenResult::Status::opened, r.reason);
    CHECK(r.format == TicketFormat::go_named);
    CHECK(r.key_id == name);
    CHECK(r.key_index == std::size_t{1});
    CHECK(r.binding == "unbound");
    check_go_session(r, t);

    // Its plaintext, decrypted apart from the library, seeds fuzz_go_state.
    const auto h = go_keys(seed->reveal());
    const std::span<const std::uint8_t> body(t.ticket.data() + 32, t.ticket.size() - 64);
    write_fuzz_seed("go_state", t.version + (t.client_cert ? "-cert" : ""),
                    decrypt_with(EVP_aes_128_ctr(), std::span(h).subspan(16, 16),
                                 std::span(t.ticket).subspan(16, 16), body));

    // The same ticket in Go 1.21's unnamed layout: found by trial HMAC.
    const auto u = unnamed(t.ticket, seed->reveal());
    const auto ru = opener.open(u, std::nullopt);
    REQUIRE_MESSAGE(ru.status == OpenResult::Status::opened, ru.reason);
    CHECK(ru.format == TicketFormat::go_unnamed);
    CHECK(ru.key_id == name);
    CHECK(ru.key_index == std::size_t{1});
    check_go_session(ru, t);

    // Tampered: a named ticket's name still matches; an unnamed one has
    // nothing left to match.
    ByteVector bad = t.ticket;
    bad[20] ^= 0x80;
    const auto rb = opener.open(bad, std::nullopt);
    CHECK(rb.status == OpenResult::Status::mac_failed);
    CHECK(rb.format == TicketFormat::go_named);
    CHECK(rb.key_index == std::size_t{1});
    ByteVector bad_unnamed = u;
    bad_unnamed[3] ^= 0x01;
    CHECK(opener.open(bad_unnamed, std::nullopt).status == OpenResult::Status::no_key);
  }

  SUBCASE("a key imported from Go, whose id is the Go name") {
    Key imported = key.clone();
    imported.id = name;
    imported.origin = "go";
    Keystore only;
    only.keys.push_back(std::move(imported));
    TicketOpener o(only);
    const auto r = o.open(tickets.front().ticket, std::nullopt);
    REQUIRE_MESSAGE(r.status == OpenResult::Status::opened, r.reason);
    CHECK(r.format == TicketFormat::go_named);
  }
  SUBCASE("a keystore without the key") {
    Keystore other;
    other.keys.push_back(generated_key());
    TicketOpener o(other);
    CHECK(o.open(tickets.front().ticket, std::nullopt).status ==
          OpenResult::Status::no_key);
  }
}

TEST_CASE("stek::inspect::TicketOpener opens SNI-bound Go tickets") {
  const Key key = generated_key();
  auto seed = material_for(key, Binding::server_name("a.example"));
  REQUIRE(seed.ok());
  const auto tickets = run_go(seed->reveal(), "a.example");
  Keystore ks;
  ks.keys.push_back(key.clone());
  TicketOpener opener(ks);
  for (const auto& t : tickets) {
    CAPTURE(t.version);
    const auto r = opener.open(t.ticket, std::string("a.example"));
    REQUIRE_MESSAGE(r.status == OpenResult::Status::opened, r.reason);
    CHECK(r.binding == "sni:a.example");
    check_go_session(r, t);
    // Go's name depends on the binding too: other names find no key.
    CHECK(opener.open(t.ticket, std::nullopt).status == OpenResult::Status::no_key);
    CHECK(opener.open(t.ticket, std::string("b.example")).status ==
          OpenResult::Status::no_key);
  }
}

TEST_CASE("stek::inspect::TicketOpener opens Go tickets of the fuzz keystore") {
  Keystore ks;
  ks.keys.push_back(fuzz_generated_key());
  TicketOpener opener(ks);
  auto seed = material_for(ks.keys[0], Binding::unbound());
  REQUIRE(seed.ok());
  const auto tickets = run_go(seed->reveal(), "a.example");
  for (const auto& t : tickets) {
    if (t.client_cert) {
      continue;
    }
    const auto r = opener.open(t.ticket, std::nullopt);
    REQUIRE_MESSAGE(r.status == OpenResult::Status::opened, r.reason);
    const auto u = unnamed(t.ticket, seed->reveal());
    const auto ru = opener.open(u, std::nullopt);
    REQUIRE_MESSAGE(ru.status == OpenResult::Status::opened, ru.reason);
    ByteVector named{0};
    named.insert(named.end(), t.ticket.begin(), t.ticket.end());
    write_fuzz_seed("ticket_open", "go119-" + t.version, named);
    ByteVector unnamed_seed{0};
    unnamed_seed.insert(unnamed_seed.end(), u.begin(), u.end());
    write_fuzz_seed("ticket_open", "go121-" + t.version, unnamed_seed);
  }
}
