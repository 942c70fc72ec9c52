// SPDX-License-Identifier: Apache-2.0
// stekctl inspect on tickets that real OpenSSL handshakes minted under a
// keystore's keys: through the provider (SNI-bound), and through OpenSSL's
// own key setting with the bytes `stekctl export --format openssl` writes.
#include "inspect/pcap/capture_builder.hpp"
#include "provider/tls_pair.hpp"
#include "support/cli.hpp"
#include "support/files.hpp"

#include <stek/crypto.hpp>
#include <stek/encoding.hpp>
#include <stek/formats/file_provider.hpp>
#include <stek/openssl_tickets.hpp>

#include <openssl/pem.h>

#include <nlohmann/json.hpp>

#include <fstream>

using namespace stek;
using namespace stek::test;
using Json = nlohmann::json;

namespace {

constexpr const char* k_created = "2026-11-28T14:00:00Z";
const Timestamp k_mint_time = *parse_time("2026-11-28T14:30:00Z");

std::vector<std::uint8_t> ticket_of(const SSL_SESSION* session) {
  const unsigned char* data = nullptr;
  std::size_t size = 0;
  SSL_SESSION_get0_ticket(session, &data, &size);
  REQUIRE(size > 0);
  return {data, data + size};
}

// Accept every name, as nginx does: OpenSSL 3.0 keeps the name in the
// session (and so in the ticket) only when a servername callback exists.
int accept_name(SSL*, int*, void*) { return SSL_TLSEXT_ERR_OK; }

void keep_server_name(SSL_CTX* ctx) {
  // SSL_CTX_set_tlsext_servername_callback casts; call what it expands to.
  SSL_CTX_callback_ctrl(ctx, SSL_CTRL_SET_TLSEXT_SERVERNAME_CB,
                        reinterpret_cast<void (*)()>(accept_name));
}

// A session from a server whose tickets come from the keystore through the
// provider, as stek-server and other libstek users issue them.
SessionPtr mint_with_provider(int version, const std::optional<std::string>& sni) {
  FileProviderOptions options;
  options.watch = WatchMode::manual;
  options.clock = [] { return k_mint_time; };
  auto provider = formats::open_file_provider("ks.json", std::move(options));
  REQUIRE(provider.ok());
  auto server = server_context(version);
  keep_server_name(server.get());
  std::shared_ptr<Provider> shared = std::move(provider).value();
  REQUIRE(openssl::use_ticket_provider(server.get(), shared).ok());
  auto client = client_context(version);
  auto result = handshake(server.get(), client.get(), sni);
  REQUIRE(result.session);
  return std::move(result.session);
}

// A session from a server given the 80 bytes of `stekctl export --format
// openssl`, as nginx and HAProxy would be.
SessionPtr mint_with_exported_keys(int version) {
  const auto r = run_cli({"--at", "2026-11-28T14:30:00Z", "export", "ks.json",
                          "--format", "openssl", "--out", "keys.bin"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  const auto keys = read_file("keys.bin");
  REQUIRE(keys.size() >= 80);
  auto server = server_context(version);
  keep_server_name(server.get());
  // The first 80 bytes: the key that encrypts.
  REQUIRE(SSL_CTX_ctrl(server.get(), SSL_CTRL_SET_TLSEXT_TICKET_KEYS, 80,
                       const_cast<char*>(keys.data())) == 1);
  auto client = client_context(version);
  auto result = handshake(server.get(), client.get(), "a.example");
  REQUIRE(result.session);
  return std::move(result.session);
}

void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

void write_pem(const std::string& path, SSL_SESSION* session) {
  BIO* bio = BIO_new_file(path.c_str(), "w");
  REQUIRE(bio);
  REQUIRE(PEM_write_bio_SSL_SESSION(bio, session) == 1);
  BIO_free(bio);
}

std::vector<Json> ndjson(const std::string& text) {
  std::vector<Json> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    lines.push_back(Json::parse(text.substr(start, end - start)));
    start = end == std::string::npos ? text.size() : end + 1;
  }
  return lines;
}

std::string first_key_id() {
  const auto r = run_cli({"--json", "--at", k_created, "list", "ks.json"});
  REQUIRE(r.code == 0);
  return Json::parse(r.out)["keys"][0]["id"];
}

} // namespace

TEST_CASE("inspect: a provider's SNI-bound tickets open under their name") {
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    CAPTURE(version);
    generate_keystore(k_created);
    const auto session = mint_with_provider(version, "a.example");
    const auto ticket = ticket_of(session.get());
    write_file("ticket.hex", hex_encode(ticket) + "\n");

    auto r = run_cli({"--json", "--at", "2026-11-28T15:00:00Z", "inspect",
                      "--keystore", "ks.json", "--sni", "a.example",
                      "ticket.hex"});
    REQUIRE_MESSAGE(r.code == 0, r.err);
    auto lines = ndjson(r.out);
    REQUIRE(lines.size() == 1);
    const auto& j = lines[0];
    CHECK(j["input"] == "ticket.hex");
    CHECK(j["message"] == "raw");
    CHECK(j["length"] == ticket.size());
    CHECK(j["format"] == "openssl");
    CHECK(j["format_confidence"] == "verified");
    CHECK(j["key_id"] == first_key_id());
    CHECK(j["key"]["match"] == "found");
    CHECK(j["key"]["id"] == first_key_id());
    CHECK(j["key"]["binding"] == "sni:a.example");
    CHECK(j["key"]["state_now"] == "active");
    CHECK_FALSE(j["key"].contains("state_at_capture")); // no capture time
    const auto& s = j["session"];
    CHECK(s["encoding"] == "openssl-der");
    CHECK(s["protocol"] == (version == TLS1_3_VERSION ? "TLSv1.3" : "TLSv1.2"));
    const SSL_CIPHER* cipher = SSL_SESSION_get0_cipher(session.get());
    CHECK(s["cipher_suite"] == SSL_CIPHER_standard_name(cipher));
    CHECK(s["sni"] == "a.example");
    CHECK(s["client_certificate"] == false);
    CHECK(s["issued"] == format_time(Timestamp(std::chrono::seconds(
                           SSL_SESSION_get_time(session.get())))));
    CHECK(s["lifetime_seconds"] == SSL_SESSION_get_timeout(session.get()));
    CHECK_FALSE(j.contains("error"));

    // Without the name, the bound key's MAC cannot verify: the key is
    // named, but a ticket of another name would look exactly like this.
    r = run_cli({"--json", "--at", "2026-11-28T15:00:00Z", "inspect",
                 "--keystore", "ks.json", "ticket.hex"});
    REQUIRE(r.code == 0);
    lines = ndjson(r.out);
    CHECK(lines[0]["key"]["match"] == "mac_failed");
    CHECK(lines[0]["key"]["id"] == first_key_id());
    CHECK_FALSE(lines[0].contains("session"));
    CHECK(lines[0].contains("error"));

    // The saved session carries the name the client asked for.
    write_pem("session.pem", session.get());
    r = run_cli({"--json", "--at", "2026-11-28T15:00:00Z", "inspect",
                 "--keystore", "ks.json", "session.pem"});
    REQUIRE_MESSAGE(r.code == 0, r.err);
    lines = ndjson(r.out);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0]["message"] == "pem_session");
    CHECK(lines[0]["sni"] == "a.example");
    CHECK(lines[0]["ticket_sha256"] == hex_encode(stek::sha256(ticket)));
    CHECK(lines[0]["key"]["match"] == "found");
    CHECK(lines[0]["session"]["sni"] == "a.example");
  }
}

TEST_CASE("inspect: tickets under exported OpenSSL keys, in every text form") {
  generate_keystore(k_created);
  const auto session = mint_with_exported_keys(TLS1_2_VERSION);
  const auto ticket = ticket_of(session.get());
  write_bytes("ticket.bin", ticket);
  write_file("ticket.b64", base64_encode(ticket) + "\n");
  std::string wrapped;
  const auto hex = hex_encode(ticket);
  for (std::size_t i = 0; i < hex.size(); i += 60) {
    wrapped += hex.substr(i, 60) + "\n";
  }
  write_file("ticket.txt", wrapped);

  const auto r = run_cli({"--json", "--at", "2026-11-28T15:00:00Z", "inspect",
                          "--keystore", "ks.json", "ticket.bin", "ticket.b64",
                          "ticket.txt"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  const auto lines = ndjson(r.out);
  REQUIRE(lines.size() == 3);
  for (const auto& j : lines) {
    CAPTURE(j.dump());
    CHECK(j["ticket_sha256"] == hex_encode(stek::sha256(ticket)));
    CHECK(j["key"]["match"] == "found");
    CHECK(j["key"]["binding"] == "unbound");
    CHECK(j["session"]["protocol"] == "TLSv1.2");
    CHECK(j["session"]["sni"] == "a.example");
  }
}

TEST_CASE("inspect: without a keystore, the format and key id only") {
  generate_keystore(k_created);
  const auto session = mint_with_exported_keys(TLS1_3_VERSION);
  write_bytes("ticket.bin", ticket_of(session.get()));
  auto r = run_cli({"--json", "inspect", "ticket.bin"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  const auto j = ndjson(r.out).at(0);
  CHECK(j["format"] == "openssl");
  CHECK(j["format_confidence"] != "verified");
  CHECK(j["key_id"] == first_key_id());
  CHECK_FALSE(j.contains("key"));
  CHECK_FALSE(j.contains("session"));

  r = run_cli({"inspect", "ticket.bin"});
  REQUIRE(r.code == 0);
  CHECK(contains(r.out, "ticket 1: ticket in ticket.bin"));
  CHECK(contains(r.out, "key id:   " + first_key_id()));
}

TEST_CASE("inspect: the readable block names key, states and session") {
  generate_keystore(k_created);
  const auto session = mint_with_exported_keys(TLS1_2_VERSION);
  write_bytes("ticket.bin", ticket_of(session.get()));
  const auto r = run_cli({"--at", "2026-11-28T15:00:00Z", "inspect",
                          "--keystore", "ks.json", "ticket.bin"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(contains(r.out, "format openssl (verified"));
  CHECK(contains(r.out, "key:      found " + first_key_id() +
                          ", active now, binding unbound"));
  CHECK(contains(r.out, "session:  TLSv1.2 TLS_"));
  CHECK(contains(r.out, "SNI a.example"));
}

TEST_CASE("inspect: summary flags tickets under revoked and expired keys") {
  generate_keystore(k_created);
  const auto session = mint_with_exported_keys(TLS1_2_VERSION);
  write_bytes("ticket.bin", ticket_of(session.get()));
  const auto id = first_key_id();

  auto r = run_cli({"--json", "--at", "2026-11-28T15:00:00Z", "inspect",
                    "--summary", "--keystore", "ks.json", "ticket.bin"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  auto doc = Json::parse(r.out);
  CHECK(doc["tickets"] == 1);
  REQUIRE(doc["by_key"].size() == 1);
  CHECK(doc["by_key"][0]["key_id"] == id);
  CHECK(doc["by_key"][0]["known"] == true);
  CHECK(doc["by_key"][0]["counts"]["raw"] == 1);
  CHECK(doc["flags"].empty());
  CHECK(doc["inputs"][0]["kind"] == "binary");

  // Long after decrypt_until: the key is gone.
  r = run_cli({"--json", "--at", "2027-01-01T00:00:00Z", "inspect",
               "--summary", "--keystore", "ks.json", "ticket.bin"});
  REQUIRE(r.code == 0);
  doc = Json::parse(r.out);
  REQUIRE(doc["flags"].size() == 1);
  CHECK(doc["flags"][0]["flag"] == "expired_key");
  CHECK(doc["flags"][0]["key_id"] == id);

  REQUIRE(run_cli({"--at", "2026-11-28T15:00:00Z", "revoke", "ks.json", id,
                   "--reason", "leaked"}).code == 0);
  r = run_cli({"--at", "2026-11-28T15:10:00Z", "inspect", "--summary",
               "--keystore", "ks.json", "ticket.bin"});
  REQUIRE(r.code == 0);
  CHECK(contains(r.out, "revoked_key: ticket in ticket.bin, key " + id));
}

TEST_CASE("inspect: a ticket under a key the keystore lacks is unknown") {
  generate_keystore(k_created);
  const auto session = mint_with_exported_keys(TLS1_2_VERSION);
  write_bytes("ticket.bin", ticket_of(session.get()));
  std::filesystem::rename("ks.json", "old.json");
  generate_keystore(k_created);
  const auto r = run_cli({"--json", "--at", "2026-11-28T15:00:00Z", "inspect",
                          "--summary", "--keystore", "ks.json", "ticket.bin"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  const auto doc = Json::parse(r.out);
  REQUIRE(doc["flags"].size() == 1);
  CHECK(doc["flags"][0]["flag"] == "unknown_key");
  CHECK(doc["by_key"][0]["known"] == false);
}

TEST_CASE("inspect: bad inputs are named, the rest still read") {
  generate_keystore(k_created);
  const auto session = mint_with_exported_keys(TLS1_2_VERSION);
  write_bytes("ticket.bin", ticket_of(session.get()));
  write_file("empty", "");

  auto r = run_cli({"--json", "inspect", "missing.bin", "ticket.bin", "empty"});
  CHECK(r.code == 1);
  CHECK(contains(r.err, "stekctl: error: cannot open missing.bin"));
  CHECK(contains(r.err, "stekctl: error: empty is empty"));
  CHECK(contains(r.err, "2 of 3 inputs could not be read"));
  CHECK(ndjson(r.out).size() == 1);

  r = run_cli({"inspect", "--sni", "bad name!", "ticket.bin"});
  CHECK(r.code == 2);
  CHECK(contains(r.err, "invalid --sni"));

  r = run_cli({"inspect", "--keystore", "nope.json", "ticket.bin"});
  CHECK(r.code == 1);
  CHECK(contains(r.err, "nope.json"));

  write_file("keylog.txt", "CLIENT_RANDOM zz\n");
  r = run_cli({"inspect", "--keylog", "keylog.txt", "ticket.bin"});
  CHECK(r.code == 1);
  CHECK(contains(r.err, "keylog.txt"));

  r = run_cli({"inspect"});
  CHECK(r.code == 2);
}

TEST_CASE("inspect: no secret of the keystore reaches the output") {
  generate_keystore(k_created);
  const auto session = mint_with_exported_keys(TLS1_2_VERSION);
  write_bytes("ticket.bin", ticket_of(session.get()));
  const auto keystore = Json::parse(read_file("ks.json"));
  std::string all;
  for (const auto& args : std::vector<std::vector<std::string>>{
         {"inspect", "--keystore", "ks.json", "ticket.bin"},
         {"--json", "inspect", "--keystore", "ks.json", "ticket.bin"},
         {"inspect", "--summary", "--keystore", "ks.json", "ticket.bin"}}) {
    const auto r = run_cli(args);
    REQUIRE(r.code == 0);
    all += r.out + r.err;
  }
  for (const auto& key : keystore["keys"]) {
    const std::string material = key["material"];
    CHECK_FALSE(contains(all, material));
    const auto bytes = base64_decode(material);
    REQUIRE(bytes.ok());
    CHECK_FALSE(contains(all, hex_encode(bytes->reveal())));
  }
  // Nor the session's master secret, which only OpenSSL and the ticket know.
  unsigned char master[64];
  const auto size = SSL_SESSION_get_master_key(session.get(), master, sizeof master);
  REQUIRE(size > 0);
  CHECK_FALSE(contains(all, hex_encode({master, size})));
}

TEST_CASE("inspect: hostile server names are escaped, never passed through") {
  namespace cb = stek::test::capture;
  cb::HelloOptions hello;
  hello.sni = std::string("evil\x1b[2J\xff.example");
  hello.session_ticket = cb::filled(176, 0x5a);
  cb::Packet packet;
  packet.frame = cb::frame(cb::Link::raw,
                           cb::tcp_packet(cb::Flow{}, true, 1000, 0x18,
                                          cb::record(22, cb::client_hello(hello))),
                           false);
  write_bytes("hostile.pcap", cb::pcap_file(101, {packet}));

  auto r = run_cli({"--json", "inspect", "hostile.pcap"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  const auto lines = ndjson(r.out);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["sni"] == "evil\\x1b[2J\\xff.example");

  r = run_cli({"inspect", "hostile.pcap"});
  REQUIRE(r.code == 0);
  CHECK(r.out.find('\x1b') == std::string::npos);
  CHECK(contains(r.out, "SNI evil\\x1b[2J\\xff.example"));
}
