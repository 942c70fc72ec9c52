// SPDX-License-Identifier: Apache-2.0
// TicketOpener on tickets real OpenSSL servers minted in memory: 80-byte keys
// (AES-256-CBC), an AES-128-CBC callback with 16-byte keys (nginx with
// 48-byte files), SNI-bound keys, Apache's all-zero HMAC key, and tickets
// that must not open.
#include "ticket_support.hpp"

#include <stek/inspect/ticket_decode.hpp>

using namespace stek;
using namespace stek::inspect;
using namespace stek::test;

namespace {

const unsigned char k_client_alpn[] = {2, 'h', '2', 8, 'h', 't', 't', 'p',
                                       '/', '1', '.', '1'};

int select_h2(SSL*, const unsigned char** out, unsigned char* outlen,
              const unsigned char* in, unsigned int inlen, void*) {
  static const unsigned char server[] = {2, 'h', '2'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, server, sizeof server, in, inlen) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

int accept_any(int, X509_STORE_CTX*) { return 1; }

int accept_server_name(SSL*, int*, void*) { return SSL_TLSEXT_ERR_OK; }

// Acknowledge SNI, as nginx's and HAProxy's servername callbacks do: only
// then does OpenSSL keep the name in the session (final_server_name).
void acknowledge_server_names(SSL_CTX* ctx) {
  // SSL_CTX_set_tlsext_servername_callback is a macro with a C cast.
  SSL_CTX_callback_ctrl(ctx, SSL_CTRL_SET_TLSEXT_SERVERNAME_CB,
                        reinterpret_cast<void (*)(void)>(accept_server_name));
}

// Give `client` a fresh self-signed certificate, and make `server` ask for
// one (accepting any).
void use_client_certificate(SSL_CTX* server, SSL_CTX* client) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  REQUIRE(key);
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 2);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_set_issuer_name(cert, X509_get_subject_name(cert));
  REQUIRE(X509_sign(cert, key, EVP_sha256()) > 0);
  REQUIRE(SSL_CTX_use_certificate(client, cert) == 1);
  REQUIRE(SSL_CTX_use_PrivateKey(client, key) == 1);
  X509_free(cert);
  EVP_PKEY_free(key);
  SSL_CTX_set_verify(server, SSL_VERIFY_PEER, accept_any);
}

struct Minted {
  ByteVector ticket;
  SessionPtr session;
  std::int64_t before = 0;
  std::int64_t after = 0;
};

enum class Keying { keys80, callback16 };

// Run a handshake against a server keyed with `keys` under `name` and
// return the client's ticket.
Minted mint(int version,
            const KeyId& name,
            const OpensslKeys& keys,
            Keying keying,
            const std::optional<std::string>& sni,
            bool client_cert = false) {
  auto server = server_context(version);
  auto client = client_context(version);
  if (keying == Keying::keys80) {
    set_ticket_keys(server.get(), name, keys);
  } else {
    use_aes128_callback(server.get(), name, keys.aes.reveal(), keys.hmac.reveal());
  }
  SSL_CTX_set_timeout(server.get(), 1234);
  acknowledge_server_names(server.get());
  SSL_CTX_set_alpn_select_cb(server.get(), select_h2, nullptr);
  REQUIRE(SSL_CTX_set_alpn_protos(client.get(), k_client_alpn, sizeof k_client_alpn) == 0);
  if (client_cert) {
    use_client_certificate(server.get(), client.get());
  }
  Minted out;
  out.before = unix_now();
  auto result = handshake(server.get(), client.get(), sni);
  out.after = unix_now();
  REQUIRE(result.session);
  out.ticket = ticket_of(result.session.get());
  out.session = std::move(result.session);
  return out;
}

Keystore keystore_of(std::vector<Key> keys) {
  Keystore ks;
  ks.keys = std::move(keys);
  return ks;
}

OpensslKeys keys_for(const Key& key, const Binding& binding, std::size_t size) {
  auto keys = openssl_keys_for(key, binding, size);
  REQUIRE(keys.ok());
  return std::move(keys).value();
}

// Check the session facts against what the client negotiated.
void check_session(const OpenResult& r, const Minted& m, const std::string& sni) {
  REQUIRE_MESSAGE(r.session.has_value(), r.session_error);
  const SessionFacts& s = *r.session;
  CHECK(s.encoding == "openssl-der");
  const int version = SSL_SESSION_get_protocol_version(m.session.get());
  CHECK(s.protocol == static_cast<std::uint16_t>(version));
  CHECK(s.cipher_suite ==
        SSL_CIPHER_get_protocol_id(SSL_SESSION_get0_cipher(m.session.get())));
  CHECK(s.sni == sni);
  CHECK(s.alpn == std::string("h2"));
  REQUIRE(s.issued.has_value());
  CHECK(unix_of(*s.issued) >= m.before);
  CHECK(unix_of(*s.issued) <= m.after);
  CHECK(s.lifetime == Duration(1234));
  if (version == TLS1_2_VERSION) {
    CHECK(s.extended_master_secret == true);
  } else {
    CHECK_FALSE(s.extended_master_secret.has_value());
  }
}

} // namespace

TEST_CASE("stek::inspect::TicketOpener opens OpenSSL tickets of 80-byte keys") {
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    CAPTURE(version);
    const Key key = generated_key();
    const KeyId id = key.id;
    const auto keys = keys_for(key, Binding::unbound(), 32);
    const auto minted = mint(version, id, keys, Keying::keys80, "a.example");
    // The key sits second, so key_index must really be looked up.
    const Keystore ks = keystore_of([&] {
      std::vector<Key> v;
      v.push_back(generated_key());
      v.push_back(key.clone());
      return v;
    }());
    TicketOpener opener(ks);
    const auto r = opener.open(minted.ticket, std::string("a.example"));
    REQUIRE_MESSAGE(r.status == OpenResult::Status::opened, r.reason);
    CHECK(r.format == TicketFormat::openssl);
    CHECK(r.key_id == id);
    CHECK(r.key_index == std::size_t{1});
    CHECK(r.binding == "unbound");
    CHECK(r.secret_size == 32);
    CHECK_FALSE(r.all_zero_hmac_key);
    check_session(r, minted, "a.example");
    CHECK(r.session->client_certificate == false);

    // Without a server name: unbound still verifies.
    const auto again = opener.open(minted.ticket, std::nullopt);
    CHECK(again.status == OpenResult::Status::opened);
    CHECK(again.binding == "unbound");
  }
}

TEST_CASE("stek::inspect::TicketOpener reports a client certificate") {
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    CAPTURE(version);
    const Key key = generated_key();
    const auto keys = keys_for(key, Binding::unbound(), 32);
    const auto minted = mint(version, key.id, keys, Keying::keys80, "c.example",
                             /*client_cert=*/true);
    const Keystore ks = keystore_of([&] {
      std::vector<Key> v;
      v.push_back(key.clone());
      return v;
    }());
    TicketOpener opener(ks);
    const auto r = opener.open(minted.ticket, std::string("c.example"));
    REQUIRE_MESSAGE(r.status == OpenResult::Status::opened, r.reason);
    check_session(r, minted, "c.example");
    CHECK(r.session->client_certificate == true);
  }
}

TEST_CASE("stek::inspect::TicketOpener opens AES-128-CBC tickets of 16-byte keys") {
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    CAPTURE(version);
    SUBCASE("imported 16-byte key (a 48-byte nginx file)") {
      const Key key = imported_key(16, "nginx48");
      const auto keys = keys_for(key, Binding::unbound(), 16);
      const auto minted = mint(version, key.id, keys, Keying::callback16, "a.example");
      std::vector<Key> v;
      v.push_back(key.clone());
      const Keystore ks = keystore_of(std::move(v));
      TicketOpener opener(ks);
      // The server name gives an imported key no per-name secrets: it is
      // skipped quietly and unbound verifies.
      const auto r = opener.open(minted.ticket, std::string("a.example"));
      REQUIRE_MESSAGE(r.status == OpenResult::Status::opened, r.reason);
      CHECK(r.secret_size == 16);
      CHECK(r.binding == "unbound");
      CHECK_FALSE(r.all_zero_hmac_key);
      check_session(r, minted, "a.example");
    }
    SUBCASE("generated key exported in 16-byte form") {
      const Key key = generated_key();
      const auto keys = keys_for(key, Binding::unbound(), 16);
      const auto minted = mint(version, key.id, keys, Keying::callback16, std::nullopt);
      std::vector<Key> v;
      v.push_back(key.clone());
      const Keystore ks = keystore_of(std::move(v));
      TicketOpener opener(ks);
      const auto r = opener.open(minted.ticket, std::nullopt);
      REQUIRE_MESSAGE(r.status == OpenResult::Status::opened, r.reason);
      CHECK(r.secret_size == 16);
      REQUIRE(r.session.has_value());
      CHECK_FALSE(r.session->sni.has_value());
    }
  }
}

TEST_CASE("stek::inspect::TicketOpener flags Apache's all-zero HMAC key") {
  const Key key = imported_key(16, "apache");
  const auto& imported = std::get<ImportedKeys>(key.secret);
  std::vector<Key> v;
  v.push_back(key.clone());
  const Keystore ks = keystore_of(std::move(v));
  TicketOpener opener(ks);
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    CAPTURE(version);
    auto server = server_context(version);
    auto client = client_context(version);
    const ByteVector zero(16, 0);
    use_aes128_callback(server.get(), key.id, imported.aes.reveal(), zero);
    acknowledge_server_names(server.get());
    auto result = handshake(server.get(), client.get(), std::string("a.example"));
    REQUIRE(result.session);
    const auto r = opener.open(ticket_of(result.session.get()), std::string("a.example"));
    REQUIRE_MESSAGE(r.status == OpenResult::Status::opened, r.reason);
    CHECK(r.all_zero_hmac_key);
    CHECK(r.secret_size == 16);
    REQUIRE(r.session.has_value());
    CHECK(r.session->sni == std::string("a.example"));
  }
}

TEST_CASE("stek::inspect::TicketOpener tries SNI bindings") {
  const Key key = generated_key();
  std::vector<Key> v;
  v.push_back(key.clone());
  const Keystore ks = keystore_of(std::move(v));
  TicketOpener opener(ks);

  SUBCASE("bound to a server name") {
    const auto keys = keys_for(key, Binding::server_name("a.example"), 32);
    const auto minted = mint(TLS1_2_VERSION, key.id, keys, Keying::keys80, "a.example");
    const auto r = opener.open(minted.ticket, std::string("a.example"));
    REQUIRE_MESSAGE(r.status == OpenResult::Status::opened, r.reason);
    CHECK(r.binding == "sni:a.example");
    // The name is normalized as the providers normalize it.
    const auto upper = opener.open(minted.ticket, std::string("A.Example."));
    CHECK(upper.status == OpenResult::Status::opened);
    CHECK(upper.binding == "sni:a.example");
    for (const auto& other : {std::optional<std::string>(),
                              std::optional<std::string>("b.example"),
                              std::optional<std::string>("not a name")}) {
      const auto wrong = opener.open(minted.ticket, other);
      CHECK(wrong.status == OpenResult::Status::mac_failed);
      CHECK(wrong.key_index == std::size_t{0});
      CHECK(wrong.key_id == key.id);
      CHECK(wrong.reason.find(key.id.hex()) != std::string::npos);
      CHECK_FALSE(wrong.session.has_value());
    }
  }
  SUBCASE("bound to connections without a name") {
    const auto keys = keys_for(key, Binding::no_server_name(), 32);
    const auto minted = mint(TLS1_3_VERSION, key.id, keys, Keying::keys80, std::nullopt);
    const auto r = opener.open(minted.ticket, std::nullopt);
    REQUIRE_MESSAGE(r.status == OpenResult::Status::opened, r.reason);
    CHECK(r.binding == "no-sni");
    CHECK(opener.open(minted.ticket, std::string("a.example")).status ==
          OpenResult::Status::mac_failed);
  }
}

TEST_CASE("stek::inspect::TicketOpener refuses tickets it cannot open") {
  const Key key = generated_key();
  const auto keys = keys_for(key, Binding::unbound(), 32);
  const auto minted = mint(TLS1_2_VERSION, key.id, keys, Keying::keys80, "a.example");
  std::vector<Key> v;
  v.push_back(key.clone());
  const Keystore ks = keystore_of(std::move(v));
  TicketOpener opener(ks);
  REQUIRE(opener.open(minted.ticket, std::nullopt).status == OpenResult::Status::opened);

  SUBCASE("a keystore without the key") {
    std::vector<Key> others;
    others.push_back(generated_key());
    const Keystore other = keystore_of(std::move(others));
    TicketOpener o(other);
    const auto r = o.open(minted.ticket, std::string("a.example"));
    CHECK(r.status == OpenResult::Status::no_key);
    CHECK_FALSE(r.key_index.has_value());
    CHECK(r.reason.find(key.id.hex()) != std::string::npos);
  }
  SUBCASE("a key with the same name but other secrets") {
    Key impostor = generated_key();
    impostor.id = key.id;
    std::vector<Key> others;
    others.push_back(std::move(impostor));
    const Keystore other = keystore_of(std::move(others));
    TicketOpener o(other);
    CHECK(o.open(minted.ticket, std::nullopt).status == OpenResult::Status::mac_failed);
  }
  SUBCASE("truncated") {
    for (const std::size_t cut : {1u, 16u, 32u}) {
      const ByteVector t(minted.ticket.begin(), minted.ticket.end() - static_cast<long>(cut));
      CHECK(opener.open(t, std::nullopt).status == OpenResult::Status::mac_failed);
    }
    const ByteVector name_only(minted.ticket.begin(), minted.ticket.begin() + 16);
    const auto r = opener.open(name_only, std::nullopt);
    CHECK(r.status == OpenResult::Status::no_key);
    CHECK(r.reason.find("too short") != std::string::npos);
  }
  SUBCASE("a flipped ciphertext bit") {
    ByteVector t = minted.ticket;
    t[40] ^= 0x01;
    CHECK(opener.open(t, std::nullopt).status == OpenResult::Status::mac_failed);
  }
  SUBCASE("garbage") {
    for (const std::size_t size : {0u, 1u, 48u, 80u, 138u, 200u, 1000u}) {
      CAPTURE(size);
      const auto r = opener.open(random_bytes_of(size), std::nullopt);
      CHECK(r.status == OpenResult::Status::no_key);
      CHECK_FALSE(r.reason.empty());
    }
  }
  SUBCASE("bad padding under a verifying HMAC") {
    // Two blocks whose last byte is 0: never valid PKCS#7.
    ByteVector plaintext(32, 0x41);
    plaintext.back() = 0x00;
    const auto t = openssl_ticket(key.id, keys.aes.reveal(), keys.hmac.reveal(),
                                  plaintext, /*padding=*/false);
    const auto r = opener.open(t, std::nullopt);
    CHECK(r.status == OpenResult::Status::decrypt_failed);
    CHECK(r.key_index == std::size_t{0});
    CHECK_FALSE(r.session.has_value());
  }
  SUBCASE("a verifying ticket whose plaintext is not a session") {
    const ByteVector plaintext(40, 0x30);
    const auto t = openssl_ticket(key.id, keys.aes.reveal(), keys.hmac.reveal(), plaintext);
    const auto r = opener.open(t, std::nullopt);
    CHECK(r.status == OpenResult::Status::opened);
    CHECK_FALSE(r.session.has_value());
    CHECK_FALSE(r.session_error.empty());
  }
}

TEST_CASE("stek::inspect::TicketOpener opens many tickets of one key") {
  // A capture's worth of tickets: every one opens, and the keystore's other
  // keys do not get in the way.
  const Key key = generated_key();
  const auto keys = keys_for(key, Binding::server_name("a.example"), 32);
  const auto minted = mint(TLS1_3_VERSION, key.id, keys, Keying::keys80, "a.example");
  std::vector<Key> v;
  for (int i = 0; i < 20; ++i) {
    v.push_back(generated_key());
  }
  v.push_back(key.clone());
  const Keystore ks = keystore_of(std::move(v));
  TicketOpener opener(ks);
  for (int i = 0; i < 2000; ++i) {
    const auto r = opener.open(minted.ticket, std::string("a.example"));
    REQUIRE(r.status == OpenResult::Status::opened);
    REQUIRE(r.key_index == std::size_t{20});
  }
  TicketOpener moved = std::move(opener);
  CHECK(moved.open(minted.ticket, std::string("a.example")).status ==
        OpenResult::Status::opened);
}

// The fixed keystore of fuzz/targets/ticket_open.cpp (same bytes): tickets
// under it open, and with STEK_FUZZ_SEEDS_DIR set they (and their
// plaintexts) become the seeds of fuzz_ticket_open and
// fuzz_openssl_session.
TEST_CASE("stek::inspect::TicketOpener opens tickets of the fuzz keystore") {
  const auto pattern = [](std::uint8_t first, std::size_t size) {
    SecretBytes out(size);
    for (std::size_t i = 0; i < size; ++i) {
      out.reveal_mutable()[i] = static_cast<std::uint8_t>(first + i);
    }
    return out;
  };
  const auto id_of = [](std::uint8_t first) {
    KeyId::Bytes bytes{};
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      bytes[i] = static_cast<std::uint8_t>(first + i);
    }
    return KeyId(bytes);
  };
  const Timestamp t(Duration(1795910400));
  Keystore ks;
  ks.keys.push_back(Key{id_of(0xA0), t, t, t, t, {},
                        ImportedKeys{pattern(0x40, 32), pattern(0x60, 32)},
                        std::string("nginx"), std::nullopt});
  ks.keys.push_back(Key{id_of(0xB0), t, t, t, t, {}, Material{pattern(0x01, 32)},
                        std::nullopt, std::nullopt});
  TicketOpener opener(ks);

  struct Case {
    std::size_t key;
    int version;
    std::optional<std::string> sni;
    std::uint8_t selector; // ticket_open's first byte: 0 none, 1 a.example
    std::string name;
  };
  const Case cases[] = {
    {0, TLS1_2_VERSION, std::nullopt, 0, "imported-tls12"},
    {0, TLS1_3_VERSION, std::string("a.example"), 0, "imported-tls13"},
    {1, TLS1_3_VERSION, std::string("a.example"), 1, "generated-sni-tls13"},
    {1, TLS1_2_VERSION, std::string("a.example"), 1, "generated-sni-tls12"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    const Key& key = ks.keys[c.key];
    const auto binding = c.selector == 1 ? Binding::server_name("a.example")
                                         : Binding::unbound();
    const auto keys = keys_for(key, binding, 32);
    const auto minted = mint(c.version, key.id, keys, Keying::keys80, c.sni);
    const auto r = opener.open(minted.ticket,
                               c.selector == 1 ? std::optional<std::string>("a.example")
                                               : std::nullopt);
    REQUIRE_MESSAGE(r.status == OpenResult::Status::opened, r.reason);
    CHECK(r.key_index == c.key);
    REQUIRE(r.session.has_value());

    ByteVector seed{c.selector};
    seed.insert(seed.end(), minted.ticket.begin(), minted.ticket.end());
    write_fuzz_seed("ticket_open", c.name, seed);
    // The server's DER, decrypted apart from the library.
    const std::span<const std::uint8_t> ticket(minted.ticket);
    const auto der = decrypt_with(EVP_aes_256_cbc(), keys.aes.reveal(),
                                  ticket.subspan(16, 16),
                                  ticket.subspan(32, ticket.size() - 64));
    CHECK(decode_openssl_session(der).ok());
    write_fuzz_seed("openssl_session", "server-" + c.name, der);
    // The client's copy, with the ticket in it.
    const int size = i2d_SSL_SESSION(minted.session.get(), nullptr);
    REQUIRE(size > 0);
    ByteVector client(static_cast<std::size_t>(size));
    unsigned char* p = client.data();
    REQUIRE(i2d_SSL_SESSION(minted.session.get(), &p) == size);
    CHECK(decode_openssl_session(client).ok());
    write_fuzz_seed("openssl_session", "client-" + c.name, client);
  }
}
