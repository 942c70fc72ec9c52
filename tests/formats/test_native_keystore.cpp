// SPDX-License-Identifier: Apache-2.0
#include <stek/encoding.hpp>
#include <stek/formats/native_keystore.hpp>
#include <stek/rotation.hpp>

#include "support/files.hpp"

#include <doctest/doctest.h>

#include <string>

namespace {

std::string golden(const std::string& name) {
  return stek::test::read_file(stek::test::data_dir() / "native" / name);
}

stek::SecretBytes bytes_of(const std::string& text) {
  stek::SecretBytes out;
  out.append(text);
  return out;
}

std::string text_of(const stek::SecretBytes& bytes) {
  return {bytes.reveal().begin(), bytes.reveal().end()};
}

stek::Result<stek::Keystore> parse(const std::string& text) {
  return stek::formats::parse_native_keystore(bytes_of(text).view(), "ks.json");
}

// Replace the first `from` in `text` with `to`, failing if it is absent.
std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto pos = text.find(from);
  REQUIRE(pos != std::string::npos);
  return text.replace(pos, from.size(), to);
}

} // namespace

TEST_CASE("stek::formats native keystore: golden files round-trip byte for byte") {
  for (const char* name : {"valid.json", "no-keys.json"}) {
    CAPTURE(std::string(name));
    const auto text = golden(name);
    auto ks = parse(text);
    REQUIRE_MESSAGE(ks.ok(), ks.error().message);
    CHECK(text_of(stek::formats::serialize_native_keystore(*ks)) == text);
  }
}

TEST_CASE("stek::formats native keystore: fields are read as written") {
  auto ks = parse(golden("valid.json"));
  REQUIRE(ks.ok());
  REQUIRE(ks->keys.size() == 3);
  const auto& imported = ks->keys[0];
  CHECK(imported.id.hex() == "0f1e2d3c4b5a69788796a5b4c3d2e1f0");
  const auto& keys = std::get<stek::ImportedKeys>(imported.secret);
  CHECK(imported.origin == "nginx");
  CHECK(keys.aes.size() == 32);
  REQUIRE(imported.revoked);
  CHECK(imported.revoked->reason == "copied to a \"test\" host");
  CHECK(stek::format_time(imported.revoked->at) == "2026-11-28T01:00:00Z");
  CHECK(std::get<stek::Material>(ks->keys[1].secret).bytes.size() == 32);
  CHECK(ks->policy.sni_binding);
  auto other = parse(golden("no-keys.json"));
  REQUIRE(other.ok());
  CHECK(other->policy.rotate_every == std::chrono::minutes(90));
  CHECK_FALSE(other->policy.sni_binding);
}

TEST_CASE("stek::formats native keystore: generated keystores round-trip") {
  auto ks = stek::create_keystore(stek::Policy{}, *stek::parse_time("@1800000000"));
  REQUIRE(ks.ok());
  const auto first = stek::formats::serialize_native_keystore(*ks);
  auto again = stek::formats::parse_native_keystore(first.view(), "");
  REQUIRE(again.ok());
  const auto second = stek::formats::serialize_native_keystore(*again);
  CHECK(text_of(first) == text_of(second));
}

TEST_CASE("stek::formats native keystore: strict reading names key and field") {
  const auto valid = golden("valid.json");
  const auto material1 = [&] {
    const auto at = valid.find("\"material\": \"") + 13;
    return valid.substr(at, 44);
  }();
  struct Case {
    const char* name;
    std::string text;
    const char* expected;
  };
  const Case cases[] = {
    {"empty file", "", "empty file"},
    {"truncated", valid.substr(0, valid.size() / 2), "truncated JSON"},
    {"syntax", replaced(valid, "\"keys\": [", "\"keys\": [,"),
     "malformed JSON at line 10, column 12"},
    {"not an object", "[]", "top level must be a JSON object"},
    {"unknown version", replaced(valid, "\"stek_keystore\": 1", "\"stek_keystore\": 2"),
     "unsupported keystore version 2"},
    {"version as string", replaced(valid, "\"stek_keystore\": 1", "\"stek_keystore\": \"1\""),
     "\"stek_keystore\" must be an integer"},
    {"missing policy field", replaced(valid, "    \"publish_ahead\": \"1h\",\n", ""),
     "policy: \"publish_ahead\" is missing"},
    {"bad duration", replaced(valid, "\"rotate_every\": \"12h\"", "\"rotate_every\": \"12 hours\""),
     "policy: \"rotate_every\" is not a duration"},
    {"bad policy", replaced(valid, "\"encrypt_for\": \"12h\"", "\"encrypt_for\": \"1h\""),
     "\"policy.encrypt_for\" must be at least"},
    {"unknown top field", replaced(valid, "\"keys\": [", "\"extra\": 1,\n  \"keys\": ["),
     "top level: unknown field \"extra\""},
    {"unknown key field", replaced(valid, "\"origin\": \"nginx\"", "\"origin\": \"nginx\", \"color\": 1"),
     "key #1 (id 0f1e2d3c4b5a69788796a5b4c3d2e1f0): unknown field \"color\""},
    {"duplicate field", replaced(valid, "\"origin\": \"nginx\"", "\"origin\": \"nginx\", \"origin\": \"haproxy\""),
     "key #1: duplicate field \"origin\""},
    {"duplicate policy field", replaced(valid, "\"sni_binding\": true", "\"sni_binding\": true, \"sni_binding\": false"),
     "in \"policy\": duplicate field \"sni_binding\""},
    {"bad base64", replaced(valid, material1, "!!!!" + material1.substr(4)),
     "key #2 (id 00112233445566778899aabbccddeeff): \"material\" is not valid base64"},
    {"short material", replaced(valid, material1, stek::base64_encode(std::vector<std::uint8_t>(31, 7))),
     "key #2 (id 00112233445566778899aabbccddeeff): \"material\" must be 32 bytes, has 31"},
    {"duplicate id", replaced(valid, "ffeeddccbbaa99887766554433221100", "00112233445566778899aabbccddeeff"),
     "key #3 (id 00112233445566778899aabbccddeeff): \"id\" duplicates key #2"},
    {"bad id", replaced(valid, "ffeeddccbbaa99887766554433221100", "ffeeddccbbaa9988776655443322110"),
     "key #3: \"id\" must be 32 hex digits"},
    {"times out of order", replaced(valid, "\"not_before\": \"2026-11-29T02:00:00Z\"", "\"not_before\": \"2026-11-29T15:00:00Z\""),
     "key #3 (id ffeeddccbbaa99887766554433221100): \"not_before\" is after \"encrypt_until\""},
    {"unparseable time", replaced(valid, "\"created\": \"2026-11-28T14:00:00Z\"", "\"created\": \"yesterday\""),
     "key #2 (id 00112233445566778899aabbccddeeff): \"created\" is not a time"},
    {"time not in canonical form", replaced(valid, "\"created\": \"2026-11-28T14:00:00Z\"", "\"created\": \"2026-11-28T15:00:00+01:00\""),
     "key #2 (id 00112233445566778899aabbccddeeff): \"created\" must be a UTC time written YYYY-MM-DDTHH:MM:SSZ"},
    {"missing time", replaced(valid, "      \"decrypt_until\": \"2026-11-30T14:00:00Z\",\n", ""),
     "key #3 (id ffeeddccbbaa99887766554433221100): \"decrypt_until\" is missing"},
    {"material and aes", replaced(valid, "\"origin\": \"nginx\"", "\"origin\": \"nginx\", \"material\": \"" + material1 + "\""),
     "needs either \"material\" or \"aes\" and \"hmac\""},
    {"origin not a string", replaced(valid, "\"material\": ", "\"origin\": 7, \"material\": "),
     "key #2 (id 00112233445566778899aabbccddeeff): \"origin\" must be a string"},
    {"revoked without reason", replaced(valid, ",\n        \"reason\": \"copied to a \\\"test\\\" host\"", ""),
     "in \"revoked\": \"reason\" is missing"},
    {"keys not an array", replaced(replaced(valid, "\"keys\": [", "\"keys\": {\"a\": ["), "  ]\n}", "  ]}\n}"),
     "top level: \"keys\" must be an array"},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.name));
    auto r = parse(c.text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == stek::Errc::invalid_keystore);
    CHECK_MESSAGE(r.error().message.find(c.expected) != std::string::npos,
                  r.error().message);
    CHECK(r.error().message.ends_with("(ks.json)"));
    // No error quotes key material.
    CHECK(r.error().message.find(material1.substr(0, 12)) == std::string::npos);
  }
}

TEST_CASE("stek::formats native keystore: syntax errors never quote secrets") {
  const auto valid = golden("valid.json");
  const auto at = valid.find("\"material\": \"") + 13;
  // Cut inside the base64 of a secret, and corrupt one in the middle.
  for (const auto& text : {valid.substr(0, at + 20),
                           valid.substr(0, at + 20) + "\u0001" + valid.substr(at + 21)}) {
    auto r = parse(text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find(valid.substr(at, 8)) == std::string::npos);
  }
}

TEST_CASE("stek::formats save and load through the file system") {
  auto ks = stek::create_keystore(stek::Policy{}, *stek::parse_time("@1800000000"));
  REQUIRE(ks.ok());
  REQUIRE(stek::formats::save_native_keystore("ks.json", *ks).ok());
  CHECK(stek::test::file_mode("ks.json") == 0600);
  auto loaded = stek::formats::load_native_keystore("ks.json");
  REQUIRE(loaded.ok());
  CHECK(loaded->keys.size() == 2);
  CHECK(loaded->keys[0].id == ks->keys[0].id);

  SUBCASE("an invalid keystore is never written") {
    ks->keys[1].id = ks->keys[0].id;
    const auto before = stek::test::read_file("ks.json");
    CHECK_FALSE(stek::formats::save_native_keystore("ks.json", *ks).ok());
    CHECK(stek::test::read_file("ks.json") == before);
  }
  SUBCASE("errors name the file") {
    stek::test::write_file("bad.json", "{");
    auto r = stek::formats::load_native_keystore("bad.json");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.ends_with("(bad.json)"));
  }
}
