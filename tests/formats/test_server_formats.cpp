// SPDX-License-Identifier: Apache-2.0
// Every server format, byte by byte: layouts and orders against the facts in
// reference/server-formats.md, derivations against an HKDF written here from
// HMAC (RFC 5869), and import(export(x)) == x.
#include <stek/encoding.hpp>
#include <stek/formats/server_format.hpp>
#include <stek/rotation.hpp>

#include "support/keys.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using stek::test::at;
using Bytes = std::vector<std::uint8_t>;

namespace {

const stek::Timestamp k_now = *stek::parse_time("2026-11-28T15:00:00Z");

Bytes bytes(std::span<const std::uint8_t> s) { return {s.begin(), s.end()}; }
Bytes bytes(const std::string& s) { return {s.begin(), s.end()}; }

Bytes hmac_sha256(const Bytes& key, const Bytes& data) {
  Bytes out(32);
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(),
       data.size(), out.data(), &len);
  return out;
}

// RFC 5869 with an empty salt, written independently of the product's.
Bytes hkdf(const Bytes& ikm, const std::string& info, std::size_t length) {
  const Bytes prk = hmac_sha256(Bytes(32, 0), ikm);
  Bytes out, t;
  for (std::uint8_t i = 1; out.size() < length; ++i) {
    Bytes block = t;
    block.insert(block.end(), info.begin(), info.end());
    block.push_back(i);
    t = hmac_sha256(prk, block);
    out.insert(out.end(), t.begin(), t.end());
  }
  out.resize(length);
  return out;
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) {
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

// A keystore at k_now: one decrypt-only, the encrypting, one pending, one
// expired and one revoked key.
stek::Keystore sample_keystore() {
  stek::Keystore ks;
  const auto t = k_now;
  ks.keys.push_back(stek::test::make_key(t - 30h, t - 24h, t - 12h, t + 12h)); // decrypt-only
  ks.keys.push_back(stek::test::make_key(t - 13h, t - 12h, t + 1h, t + 25h));  // encrypting
  ks.keys.push_back(stek::test::make_key(t - 1h, t + 1h, t + 13h, t + 37h));   // pending
  ks.keys.push_back(stek::test::make_key(t - 60h, t - 48h, t - 36h, t - 1s));  // expired
  ks.keys.push_back(stek::test::make_key(t - 20h, t - 18h, t - 6h, t + 18h));  // revoked
  ks.keys[4].revoked = stek::Revocation{t - 2h, "test"};
  REQUIRE(ks.validate().ok());
  return ks;
}

Bytes material_of(const stek::Key& key) {
  return bytes(std::get<stek::Material>(key.secret).bytes.reveal());
}

stek::formats::Export export_as(const std::string& name,
                                const stek::Keystore& ks,
                                stek::Binding binding = stek::Binding::unbound()) {
  auto format = stek::formats::find_server_format(name);
  REQUIRE(format.ok());
  stek::formats::ExportRequest request;
  request.keystore = &ks;
  request.now = k_now;
  request.binding = std::move(binding);
  request.config_dir = "/etc/stek/" + name;
  auto out = (*format)->write(request);
  REQUIRE_MESSAGE(out.ok(), out.error().message);
  return std::move(out).value();
}

std::vector<std::string> ids_of(const stek::formats::Export& e) {
  std::vector<std::string> out;
  for (const auto& k : e.keys) {
    out.push_back(k.id.hex());
  }
  return out;
}

std::string text(const stek::formats::FormatFile& f) {
  return {f.contents.reveal().begin(), f.contents.reveal().end()};
}

// The expected OpenSSL-family key file of a generated key.
Bytes expected_file(const stek::Key& key, std::size_t size, bool hmac_first) {
  const auto m = material_of(key);
  const Bytes aes = hkdf(m, size == 32 ? "stekctl/v1 openssl aes-256-cbc"
                                       : "stekctl/v1 openssl aes-128-cbc", size);
  const Bytes hmac = hkdf(m, size == 32 ? "stekctl/v1 openssl hmac-sha256 32"
                                        : "stekctl/v1 openssl hmac-sha256 16", size);
  const Bytes name = bytes(key.id.bytes());
  return hmac_first ? concat({name, hmac, aes}) : concat({name, aes, hmac});
}

} // namespace

TEST_CASE("stek::formats registry lists every format once") {
  std::vector<std::string> names;
  for (const auto& f : stek::formats::server_formats()) {
    names.emplace_back(f.name);
  }
  CHECK(names == std::vector<std::string>{"nginx", "nginx48", "haproxy",
                                          "haproxy48", "apache", "openssl",
                                          "envoy", "go", "s2n", "k8s-secret"});
  auto unknown = stek::formats::find_server_format("caddy");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().code == stek::Errc::unsupported);
  CHECK(unknown.error().message.find("known: nginx, nginx48") != std::string::npos);
}

TEST_CASE("stek::formats nginx: name|HMAC|AES at 80 bytes, name|AES|HMAC at 48") {
  const auto ks = sample_keystore();
  for (const bool wide : {true, false}) {
    CAPTURE(wide);
    const auto e = export_as(wide ? "nginx" : "nginx48", ks);
    // Encrypting first, then pending, then decrypt-only; never expired or
    // revoked.
    CHECK(ids_of(e) == std::vector<std::string>{ks.keys[1].id.hex(), ks.keys[2].id.hex(),
                                                ks.keys[0].id.hex()});
    CHECK(e.keys[0].role == "encrypts");
    REQUIRE(e.files.size() == 4);
    for (std::size_t i = 0; i < 3; ++i) {
      const auto& key = *ks.find(e.keys[i].id);
      CHECK(e.files[i].name == key.id.hex() + ".key");
      CHECK(bytes(e.files[i].contents.reveal()) ==
            expected_file(key, wide ? 32 : 16, /*hmac_first=*/wide));
    }
    const std::string dir = wide ? "/etc/stek/nginx/" : "/etc/stek/nginx48/";
    const auto snippet = text(e.files[3]);
    CHECK(e.files[3].name == "ssl_session_tickets.conf");
    const auto first = snippet.find("ssl_session_ticket_key " + dir + ks.keys[1].id.hex() + ".key;");
    const auto second = snippet.find("ssl_session_ticket_key " + dir + ks.keys[2].id.hex() + ".key;");
    const auto third = snippet.find("ssl_session_ticket_key " + dir + ks.keys[0].id.hex() + ".key;");
    CHECK(first < second);
    CHECK(second < third);
    CHECK(third != std::string::npos);
  }
}

TEST_CASE("stek::formats haproxy: base64 name|AES|HMAC, encrypting key penultimate") {
  const auto ks = sample_keystore();
  for (const bool wide : {true, false}) {
    CAPTURE(wide);
    const auto e = export_as(wide ? "haproxy" : "haproxy48", ks);
    CHECK(ids_of(e) == std::vector<std::string>{ks.keys[0].id.hex(), ks.keys[1].id.hex(),
                                                ks.keys[2].id.hex()});
    CHECK(e.keys[1].role == "encrypts");
    const auto lines = text(e.files[0]);
    std::vector<std::string> split;
    for (std::size_t pos = 0; pos < lines.size();) {
      const auto end = lines.find('\n', pos);
      split.push_back(lines.substr(pos, end - pos));
      pos = end + 1;
    }
    REQUIRE(split.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
      const auto& key = *ks.find(e.keys[i].id);
      auto decoded = stek::base64_decode(split[i]);
      REQUIRE(decoded.ok());
      CHECK(bytes(decoded->reveal()) == expected_file(key, wide ? 32 : 16, false));
    }
  }
}

TEST_CASE("stek::formats haproxy fills its three slots and says what is lost") {
  auto ks = sample_keystore();
  SUBCASE("no pending key: the second decrypt-only key goes last") {
    ks.keys[2].revoked = stek::Revocation{k_now, "x"};
    ks.keys[4].revoked.reset(); // now a second decrypt-only key
    const auto e = export_as("haproxy", ks);
    CHECK(ids_of(e) == std::vector<std::string>{ks.keys[4].id.hex(), ks.keys[1].id.hex(),
                                                ks.keys[0].id.hex()});
  }
  SUBCASE("only the encrypting key: it fills every slot") {
    ks.keys[0].revoked = stek::Revocation{k_now, "x"};
    ks.keys[2].revoked = stek::Revocation{k_now, "x"};
    const auto e = export_as("haproxy", ks);
    CHECK(ids_of(e) == std::vector<std::string>(3, ks.keys[1].id.hex()));
    CHECK(std::any_of(e.warnings.begin(), e.warnings.end(), [](const auto& w) {
      return w.find("fills the empty slot") != std::string::npos;
    }));
  }
  SUBCASE("more keys than slots") {
    ks.keys[4].revoked.reset();
    const auto e = export_as("haproxy", ks);
    CHECK(std::any_of(e.warnings.begin(), e.warnings.end(), [](const auto& w) {
      return w.find("HAProxy keeps three keys: 1 older") != std::string::npos;
    }));
  }
}

TEST_CASE("stek::formats apache and openssl: the encrypting key alone") {
  const auto ks = sample_keystore();
  const auto apache = export_as("apache", ks);
  CHECK(ids_of(apache) == std::vector<std::string>{ks.keys[1].id.hex()});
  CHECK(bytes(apache.files[0].contents.reveal()) == expected_file(ks.keys[1], 16, true));
  CHECK(apache.files[0].contents.size() == 48);
  const auto openssl = export_as("openssl", ks);
  CHECK(bytes(openssl.files[0].contents.reveal()) == expected_file(ks.keys[1], 32, true));
  CHECK(openssl.files[0].contents.size() == 80);
  CHECK(std::any_of(openssl.warnings.begin(), openssl.warnings.end(), [&ks](const auto& w) {
    return w.find("is exported, not " + ks.keys[2].id.hex() + ", " + ks.keys[0].id.hex()) !=
           std::string::npos;
  }));
}

TEST_CASE("stek::formats envoy: 80-byte files, the block and the SDS Secret agree") {
  const auto ks = sample_keystore();
  const auto e = export_as("envoy", ks);
  REQUIRE(e.files.size() == 5);
  const auto block = text(e.files[3]);
  const auto sds = text(e.files[4]);
  CHECK(e.files[3].name == "session_ticket_keys.yaml");
  CHECK(e.files[4].name == "sds_secret.yaml");
  std::size_t last_block = 0, last_sds = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& key = *ks.find(e.keys[i].id);
    CHECK(bytes(e.files[i].contents.reveal()) == expected_file(key, 32, true));
    const auto in_block = block.find("- filename: /etc/stek/envoy/" + key.id.hex() + ".key");
    const auto in_sds = sds.find("- inline_bytes: " + stek::base64_encode(e.files[i].contents.reveal()));
    REQUIRE(in_block != std::string::npos);
    REQUIRE(in_sds != std::string::npos);
    CHECK(in_block >= last_block);
    CHECK(in_sds >= last_sds);
    last_block = in_block;
    last_sds = in_sds;
  }
  CHECK(sds.find("type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret") !=
        std::string::npos);
}

TEST_CASE("stek::formats go and s2n take the material as it is") {
  const auto ks = sample_keystore();
  const auto go = export_as("go", ks);
  const auto lines = text(go.files[0]);
  std::string expected;
  for (const auto& id : ids_of(go)) {
    expected += stek::base64_encode(material_of(*ks.find(*stek::KeyId::from_hex(id)))) + "\n";
  }
  CHECK(lines == expected);
  CHECK(go.keys[0].id == ks.keys[1].id);

  const auto s2n = export_as("s2n", ks);
  const auto doc = nlohmann::json::parse(text(s2n.files[0]));
  CHECK(doc["s2n_ticket_keys"] == 1);
  CHECK(doc["encrypt_decrypt_key_lifetime"] == 12 * 3600);
  CHECK(doc["decrypt_key_lifetime"] == 24 * 3600);
  REQUIRE(doc["keys"].size() == 3);
  for (const auto& entry : doc["keys"]) {
    const auto* key = ks.find(*stek::KeyId::from_hex(entry["name"].get<std::string>()));
    REQUIRE(key != nullptr);
    CHECK(entry["material"] == stek::base64_encode(material_of(*key)));
    CHECK(entry["intro_time"] == key->not_before.time_since_epoch().count());
  }
}

TEST_CASE("stek::formats --sni derives per-name secrets, same ids") {
  const auto ks = sample_keystore();
  const auto a = export_as("openssl", ks, stek::Binding::server_name("a.example"));
  const auto b = export_as("openssl", ks, stek::Binding::server_name("b.example"));
  const auto none = export_as("openssl", ks);
  CHECK(a.keys[0].id == b.keys[0].id);
  CHECK(bytes(a.files[0].contents.reveal()) != bytes(b.files[0].contents.reveal()));
  CHECK(bytes(a.files[0].contents.reveal()) != bytes(none.files[0].contents.reveal()));
  // The documented derivation: per-name material, then the OpenSSL labels.
  const Bytes sni_material = hkdf(material_of(ks.keys[1]), "stekctl/v1 sni a.example", 32);
  const Bytes expected = concat({bytes(ks.keys[1].id.bytes()),
                                 hkdf(sni_material, "stekctl/v1 openssl hmac-sha256 32", 32),
                                 hkdf(sni_material, "stekctl/v1 openssl aes-256-cbc", 32)});
  CHECK(bytes(a.files[0].contents.reveal()) == expected);
  const auto go = export_as("go", ks, stek::Binding::server_name("a.example"));
  CHECK(text(go.files[0]).starts_with(stek::base64_encode(sni_material) + "\n"));

  CHECK(*stek::normalize_server_name("A.Example.") == "a.example");
  CHECK_FALSE(stek::normalize_server_name("").ok());
  CHECK_FALSE(stek::normalize_server_name("a b").ok());
  for (const char* bad : {"example.com..", ".example.com", "a..b", "*.example.com", "-",
                          "a.b/c"}) {
    CAPTURE(std::string(bad));
    CHECK_FALSE(stek::normalize_server_name(bad).ok());
  }
  CHECK(*stek::normalize_server_name("under_score-host.Example") == "under_score-host.example");
  CHECK_FALSE(stek::normalize_server_name(std::string(254, 'a')).ok());
}

TEST_CASE("stek::formats export of a keystore where nothing encrypts is an error") {
  auto ks = sample_keystore();
  auto format = stek::formats::find_server_format("nginx");
  stek::formats::ExportRequest request;
  request.keystore = &ks;
  request.now = k_now + 100h;
  auto r = (*format)->write(request);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("no key encrypts") != std::string::npos);
  stek::Keystore empty;
  request.keystore = &empty;
  CHECK_FALSE((*format)->write(request).ok());
}

TEST_CASE("stek::formats import(export(keystore)) keeps every byte") {
  const auto ks = sample_keystore();
  for (const char* name : {"nginx", "nginx48", "haproxy", "haproxy48", "apache",
                           "openssl", "envoy", "go", "s2n"}) {
    CAPTURE(std::string(name));
    const auto e = export_as(name, ks);
    const auto* format = *stek::formats::find_server_format(name);
    std::vector<stek::formats::FormatFile> inputs;
    for (const auto& f : e.files) {
      if (f.name.empty() || f.name.ends_with(".key")) {
        inputs.push_back({f.name.empty() ? "file" : f.name, f.contents.clone()});
      }
    }
    auto keys = format->read(inputs, k_now);
    REQUIRE_MESSAGE(keys.ok(), keys.error().message);
    // HAProxy repeats no key here (three live keys fill its three slots).
    REQUIRE(keys->keys.size() == e.keys.size());
    for (std::size_t i = 0; i < e.keys.size(); ++i) {
      const auto& got = keys->keys[i];
      // The encrypting key is read back as the encrypting one.
      CHECK(got.encrypting == (e.keys[i].role == "encrypts"));
      if (std::string(name) == "go") {
        continue; // Go names keys itself; checked below
      }
      CHECK(got.id == e.keys[i].id);
    }
    // Exporting the imported keys again gives the same bytes.
    stek::Keystore again;
    for (auto& got : keys->keys) {
      const auto* source = ks.find(got.id);
      stek::Key key = source ? source->clone() : ks.keys[1].clone();
      key.id = got.id;
      key.secret = std::move(got.secret);
      again.keys.push_back(std::move(key));
    }
    if (std::string(name) != "go") {
      const auto e2 = export_as(name, again);
      for (std::size_t i = 0; i < e.files.size(); ++i) {
        CHECK(bytes(e.files[i].contents.reveal()) == bytes(e2.files[i].contents.reveal()));
      }
    }
  }
}

TEST_CASE("stek::formats go import names keys as Go does") {
  // Go 1.19 ticketKeyFromBytes: name = SHA-512(seed)[0:16].
  const Bytes seed(32, 0x42);
  Bytes digest(64);
  unsigned int len = 0;
  EVP_Digest(seed.data(), seed.size(), digest.data(), &len, EVP_sha512(), nullptr);
  stek::formats::FormatFile file{"go.keys", stek::SecretBytes::copy_of(
                                              bytes(stek::base64_encode(seed) + "\n"))};
  auto keys = (*stek::formats::find_server_format("go"))->read({&file, 1}, k_now);
  REQUIRE(keys.ok());
  REQUIRE(keys->keys.size() == 1);
  CHECK(bytes(keys->keys[0].id.bytes()) == Bytes(digest.begin(), digest.begin() + 16));
  CHECK(keys->keys[0].encrypting);
}

TEST_CASE("stek::formats import rejects bad server files, naming them") {
  const auto read = [](const char* format, std::string contents) {
    stek::formats::FormatFile file{"in.keys", stek::SecretBytes::copy_of(bytes(contents))};
    return (*stek::formats::find_server_format(format))->read({&file, 1}, k_now);
  };
  const auto b64_80 = stek::base64_encode(Bytes(80, 7));
  const auto b64_48 = stek::base64_encode(Bytes(48, 7));
  struct Case {
    const char* format;
    std::string contents;
    const char* expected;
  };
  const Case cases[] = {
    {"nginx", std::string(79, 'x'), "nginx key must be 80 bytes, not 79 (in.keys)"},
    {"nginx48", std::string(80, 'x'), "nginx48 key must be 48 bytes, not 80 (in.keys)"},
    {"apache", std::string(49, 'x'), "apache key must be 48 bytes, not 49"},
    {"openssl", "", "openssl key must be 80 bytes, not 0"},
    {"haproxy", b64_80 + "\n" + b64_80 + "\n", "at least 3 key lines, this file has 2"},
    {"haproxy", b64_80 + "\n" + b64_80 + "\n!!!!\n", "not a base64 key (in.keys line 3)"},
    {"haproxy", b64_80 + "\n\n" + b64_80 + "\n", "haproxy key must be 80 bytes, not 0 (in.keys line 2)"},
    {"haproxy", b64_80 + "\n" + b64_48 + "\n" + b64_80 + "\n", "not 48 (in.keys line 2)"},
    {"go", "abc\n", "expected a base64 32-byte Go ticket key (in.keys line 1)"},
    {"s2n", "{}", "not an s2n ticket key file"},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.format));
    CAPTURE(std::string(c.expected));
    auto r = read(c.format, c.contents);
    REQUIRE_FALSE(r.ok());
    CHECK_MESSAGE(r.error().message.find(c.expected) != std::string::npos, r.error().message);
  }
  // HAProxy: more than three lines keeps the last three, and says so.
  // Even lines HAProxy would not keep must be well-formed: it refuses the
  // file otherwise.
  auto r = read("haproxy", b64_48 + "\n" + b64_80 + "\n" + b64_80 + "\n" + b64_80 + "\r\n");
  CHECK_FALSE(r.ok());
  auto ok = read("haproxy48", b64_48 + "\n" + b64_48 + "\n" + b64_48 + "\n" + b64_48 + "\r\n");
  REQUIRE(ok.ok());
  CHECK(ok->warnings.size() == 1);
  // One key in all three slots (as stekctl's export writes when only one
  // key is live) is one key, the encrypting one.
  REQUIRE(ok->keys.size() == 1);
  CHECK(ok->keys[0].encrypting);
  // Two different keys under one name cannot both be kept.
  Bytes other(48, 7);
  other[40] = 8;
  auto clash = read("haproxy48", b64_48 + "\n" + stek::base64_encode(other) + "\n" + b64_48 + "\n");
  REQUIRE_FALSE(clash.ok());
  CHECK(clash.error().message.find("two different keys are named") != std::string::npos);
}

TEST_CASE("stek::formats imported keys: only their own size, never material") {
  auto ks = sample_keystore();
  ks.keys[1].secret = stek::ImportedKeys{
    std::move(stek::random_secret(32)).value(), std::move(stek::random_secret(32)).value()};
  ks.keys[1].origin = "nginx";
  CHECK(export_as("haproxy", ks).keys.size() == 3);
  for (const char* name : {"nginx48", "apache", "go", "s2n"}) {
    CAPTURE(std::string(name));
    stek::formats::ExportRequest request;
    request.keystore = &ks;
    request.now = k_now;
    auto r = (*stek::formats::find_server_format(name))->write(request);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == stek::Errc::unsupported);
    CHECK(r.error().message.find(ks.keys[1].id.hex()) != std::string::npos);
  }
  // Under --sni an imported key keeps its bytes, with a warning.
  const auto bound = export_as("nginx", ks, stek::Binding::server_name("a.example"));
  const auto& imported = std::get<stek::ImportedKeys>(ks.keys[1].secret);
  CHECK(bytes(bound.files[0].contents.reveal()) ==
        concat({bytes(ks.keys[1].id.bytes()), bytes(imported.hmac.reveal()),
                bytes(imported.aes.reveal())}));
  CHECK(std::any_of(bound.warnings.begin(), bound.warnings.end(), [](const auto& w) {
    return w.find("not bound to the server name") != std::string::npos;
  }));
}

TEST_CASE("stek::formats k8s-secret carries the keystore or another format") {
  const auto ks = sample_keystore();
  auto format = *stek::formats::find_server_format("k8s-secret");
  stek::formats::ExportRequest request;
  request.keystore = &ks;
  request.now = k_now;
  request.config_dir = "/etc/stek";
  request.secret_namespace = "tls";
  auto keystore = format->write(request);
  REQUIRE(keystore.ok());
  const auto yaml = text(keystore->files[0]);
  CHECK(yaml.find("kind: Secret\n") != std::string::npos);
  CHECK(yaml.find("  namespace: tls\n") != std::string::npos);
  CHECK(yaml.find("  keystore.json: ") != std::string::npos);
  request.secret_of = "haproxy";
  auto haproxy = format->write(request);
  REQUIRE(haproxy.ok());
  const auto inner = export_as("haproxy", ks);
  CHECK(text(haproxy->files[0]).find("  tls-ticket-keys: " +
                                     stek::base64_encode(inner.files[0].contents.reveal())) !=
        std::string::npos);
  request.secret_of = "k8s-secret";
  CHECK_FALSE(format->write(request).ok());
  request.secret_of = "haproxy";
  request.secret_name = "Bad_Name";
  CHECK_FALSE(format->write(request).ok());
}

// Found by fuzz/targets/import_formats.cpp: a version field that was not a
// number made nlohmann's value() throw out of the s2n reader.
TEST_CASE("stek::formats s2n import refuses a version that is not a number") {
  const std::string key =
    "{\"name\": \"21b5ec\", \"material\": \"" + stek::base64_encode(Bytes(32, 7)) +
    "\", \"intro_time\": 0}";
  for (const std::string version : {"\"1\"", "[]", "null", "{}", "true", "1.0", "2"}) {
    CAPTURE(version);
    stek::formats::FormatFile file{
      "in.json", stek::SecretBytes::copy_of(bytes("{\"s2n_ticket_keys\": " + version +
                                                  ", \"keys\": [" + key + "]}"))};
    auto r = (*stek::formats::find_server_format("s2n"))->read({&file, 1}, k_now);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("not an s2n ticket key file") != std::string::npos);
  }
  stek::formats::FormatFile file{
    "in.json", stek::SecretBytes::copy_of(bytes("{\"s2n_ticket_keys\": 1, \"keys\": [" + key + "]}"))};
  CHECK((*stek::formats::find_server_format("s2n"))->read({&file, 1}, k_now).ok());
}
