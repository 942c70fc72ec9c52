// SPDX-License-Identifier: Apache-2.0
// The PKCS#11 oracle against SoftHSM2: its MACs match `openssl mac` with
// the same key, the keys it accepts cannot be read out of the token, and
// each way it can fail names the oracle and the cause, and heals once the
// cause is fixed.
#include "derived/softhsm_fixture.hpp"

#include <stek/oracle.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using stek::Errc;
using stek::test::contains;
using stek::test::describe;
using stek::test::SoftHsm;

const std::string k_key_hex =
  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

std::vector<std::uint8_t> bytes_of(std::string_view text) {
  return {text.begin(), text.end()};
}

std::string hex_of(std::span<const std::uint8_t> bytes) {
  static const char* digits = "0123456789abcdef";
  std::string hex;
  for (const std::uint8_t b : bytes) {
    hex += digits[b >> 4];
    hex += digits[b & 0xF];
  }
  return hex;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// HMAC-SHA256 of `message` under `key_hex`, from the openssl CLI: no code
// shared with the oracle or SoftHSM.
std::string openssl_hmac(const std::filesystem::path& dir,
                         const std::vector<std::uint8_t>& message,
                         const std::string& key_hex) {
  const auto file = dir / "message";
  stek::test::write_file(file, std::string(message.begin(), message.end()));
  const auto run = stek::test::run_process(
    {"/usr/bin/env", "openssl", "mac", "-digest", "SHA256", "-macopt",
     "hexkey:" + key_hex, "-in", file.string(), "HMAC"});
  REQUIRE_MESSAGE(run.code == 0, describe(run));
  std::string out = lower(run.out);
  while (!out.empty() && std::isspace(static_cast<unsigned char>(out.back()))) {
    out.pop_back();
  }
  return out;
}

std::unique_ptr<stek::MacOracle> open(stek::Pkcs11OracleConfig config) {
  auto oracle = stek::open_pkcs11_oracle(std::move(config));
  REQUIRE_MESSAGE(oracle.ok(), (oracle.ok() ? "" : oracle.error().message));
  return std::move(oracle).value();
}

std::string mac_hex(stek::MacOracle& oracle, const std::vector<std::uint8_t>& message) {
  const auto mac = oracle.mac(message);
  REQUIRE_MESSAGE(mac.ok(), (mac.ok() ? "" : mac.error().message));
  REQUIRE(mac->size() == stek::MacOracle::k_mac_size);
  return hex_of(mac->reveal());
}

// The error mac() fails with, checked to be `code` and to start with the
// oracle's description; no PIN may appear in it.
stek::Error mac_failure(stek::MacOracle& oracle, Errc code = Errc::oracle) {
  const auto mac = oracle.mac(bytes_of("message"));
  REQUIRE_FALSE(mac.ok());
  const stek::Error& error = mac.error();
  MESSAGE(error.message);
  CHECK(error.code == code);
  CHECK(error.message.starts_with(oracle.describe() + ": "));
  CHECK_FALSE(contains(error.message, SoftHsm::k_user_pin));
  CHECK_FALSE(contains(error.message, "wrong-pin"));
  return error;
}

} // namespace

TEST_CASE("pkcs11 oracle: the MAC of a SoftHSM key equals openssl mac with the same key") {
  SoftHsm hsm;
  // SoftHSM signs with CKM_SHA256_HMAC under either key type.
  hsm.create_key("generic", {"--value-hex", k_key_hex, "--key-type", "generic"});
  hsm.create_key("hmac", {"--value-hex", k_key_hex, "--key-type", "sha256-hmac"});
  std::vector<std::uint8_t> long_message(5000);
  for (std::size_t i = 0; i < long_message.size(); ++i) {
    long_message[i] = static_cast<std::uint8_t>(i * 131 + 7);
  }
  for (const std::string key : {"generic", "hmac"}) {
    CAPTURE(key);
    const auto oracle = open(hsm.config(key));
    for (const auto& message : {bytes_of("stek derivation input"), bytes_of("x"), bytes_of(""),
                                long_message}) {
      CHECK(mac_hex(*oracle, message) == openssl_hmac(hsm.dir(), message, k_key_hex));
    }
  }
  CHECK(open(hsm.config("stek"))->describe() ==
        "pkcs11 oracle (module " + SoftHsm::module() + ", token stek-test, key stek)");
}

TEST_CASE("pkcs11 oracle: a generated key works and cannot be read out of the token") {
  SoftHsm hsm;
  hsm.create_key("stek", {"--generate"});
  const auto oracle = open(hsm.config("stek"));
  const auto first = mac_hex(*oracle, bytes_of("a"));
  CHECK(mac_hex(*oracle, bytes_of("a")) == first);
  CHECK(mac_hex(*oracle, bytes_of("b")) != first);

  const auto lines = hsm.show_key("stek");
  for (const auto& line : lines) {
    MESSAGE("show-key: " << line);
  }
  const auto has = [&](const std::string& line) {
    return std::find(lines.begin(), lines.end(), line) != lines.end();
  };
  CHECK(has("class=secret-key"));
  CHECK(has("sign=true"));
  CHECK(has("sensitive=true"));
  CHECK(has("extractable=false"));
  CHECK(has("always_sensitive=true"));
  CHECK(has("never_extractable=true"));
  CHECK(has("value=unreadable (CKR_ATTRIBUTE_SENSITIVE)"));
  CHECK_FALSE(has("value=READABLE"));
}

TEST_CASE("pkcs11 oracle: show-key tells a readable key from an unreadable one") {
  // The proof above is only worth something if show-key can tell.
  SoftHsm hsm;
  hsm.create_key("loose", {"--value-hex", k_key_hex, "--extractable", "--not-sensitive"});
  const auto lines = hsm.show_key("loose");
  const auto has = [&](const std::string& line) {
    return std::find(lines.begin(), lines.end(), line) != lines.end();
  };
  CHECK(has("sensitive=false"));
  CHECK(has("extractable=true"));
  CHECK(has("value=READABLE"));
  for (const auto& line : lines) {
    CHECK_FALSE(contains(lower(line), k_key_hex));
  }
}

TEST_CASE("pkcs11 oracle: an extractable key is refused") {
  SoftHsm hsm;
  hsm.create_key("loose-key", {"--value-hex", k_key_hex, "--extractable"});
  const auto oracle = open(hsm.config("loose-key"));
  const auto error = mac_failure(*oracle);
  CHECK(contains(error.message, "key 'loose-key' is extractable"));
  CHECK(contains(error.message, "CKA_EXTRACTABLE=false"));
}

TEST_CASE("pkcs11 oracle: a key that is not sensitive is refused") {
  SoftHsm hsm;
  hsm.create_key("plain-key", {"--value-hex", k_key_hex, "--not-sensitive"});
  const auto oracle = open(hsm.config("plain-key"));
  const auto error = mac_failure(*oracle);
  CHECK(contains(error.message, "key 'plain-key' is not sensitive"));
  CHECK(contains(error.message, "CKA_SENSITIVE=true"));
}

TEST_CASE("pkcs11 oracle: a wrong PIN fails with CKR_PIN_INCORRECT until the PIN file is fixed") {
  SoftHsm hsm;
  hsm.create_key("stek", {"--value-hex", k_key_hex});
  stek::test::write_file(hsm.pin_file(), "wrong-pin\n");
  const auto oracle = open(hsm.config("stek"));
  const auto error = mac_failure(*oracle);
  CHECK(contains(error.message, "CKR_PIN_INCORRECT"));
  CHECK(contains(error.message, "token 'stek-test'"));

  // CRLF line ending and a second line, as an editor might leave them.
  stek::test::write_file(hsm.pin_file(),
                         std::string(SoftHsm::k_user_pin) + "\r\nsecond line\n");
  const auto message = bytes_of("after the fix");
  CHECK(mac_hex(*oracle, message) == openssl_hmac(hsm.dir(), message, k_key_hex));
}

TEST_CASE("pkcs11 oracle: a missing module is an error naming it, and loads once it appears") {
  SoftHsm hsm;
  hsm.create_key("stek", {"--value-hex", k_key_hex});
  auto config = hsm.config("stek");
  const auto module = hsm.dir() / "lib" / "libvendor-pkcs11.so";
  config.module = module.string();
  const auto oracle = open(config);
  const auto error = mac_failure(*oracle);
  CHECK(contains(error.message, "cannot load the PKCS#11 module: " + module.string()));

  std::filesystem::create_directories(module.parent_path());
  std::filesystem::create_symlink(SoftHsm::module(), module);
  const auto message = bytes_of("after the fix");
  CHECK(mac_hex(*oracle, message) == openssl_hmac(hsm.dir(), message, k_key_hex));
}

TEST_CASE("pkcs11 oracle: an unknown token label is an error naming it") {
  SoftHsm hsm;
  hsm.create_key("stek", {"--generate"});
  auto config = hsm.config("stek");
  config.token = "no-such-token";
  const auto oracle = open(config);
  const auto error = mac_failure(*oracle);
  CHECK(contains(error.message, "no token labelled 'no-such-token'"));
  CHECK(contains(error.message, "CKR_TOKEN_NOT_PRESENT"));
}

TEST_CASE("pkcs11 oracle: a token that appears after a failed call is found by the next") {
  // SoftHSM2 reads its token list when the module is initialized; the
  // oracle initializes it again after a call that found no token.
  SoftHsm hsm;
  auto config = hsm.config("stek");
  config.token = "late";
  const auto oracle = open(config);
  CHECK(contains(mac_failure(*oracle).message, "CKR_TOKEN_NOT_PRESENT"));
  const auto init = SoftHsm::tool({"init", "--dir", hsm.dir().string(), "--token", "late",
                                   "--pin-file", hsm.pin_file().string(), "--so-pin-file",
                                   (hsm.dir() / "so-pin").string(), "--module",
                                   SoftHsm::module()});
  REQUIRE_MESSAGE(init.code == 0, describe(init));
  const auto made = SoftHsm::tool({"create-key", "--module", SoftHsm::module(), "--token",
                                   "late", "--pin-file", hsm.pin_file().string(),
                                   "--label", "stek", "--value-hex", k_key_hex});
  REQUIRE_MESSAGE(made.code == 0, describe(made));
  const auto message = bytes_of("the token is there now");
  CHECK(mac_hex(*oracle, message) == openssl_hmac(hsm.dir(), message, k_key_hex));
}

TEST_CASE("pkcs11 oracle: an unknown key label is an error naming it and the token") {
  SoftHsm hsm;
  hsm.create_key("stek", {"--generate"});
  const auto oracle = open(hsm.config("other"));
  const auto error = mac_failure(*oracle);
  CHECK(contains(error.message, "no secret key labelled 'other' in token 'stek-test'"));
}

TEST_CASE("pkcs11 oracle: two keys with the same label are refused") {
  SoftHsm hsm;
  hsm.create_key("twin", {"--generate"});
  hsm.create_key("twin", {"--generate", "--allow-duplicate"});
  const auto oracle = open(hsm.config("twin"));
  const auto error = mac_failure(*oracle);
  CHECK(contains(error.message, "more than one secret key labelled 'twin'"));
}

TEST_CASE("pkcs11 oracle: a PIN from an environment variable, unset then set") {
  SoftHsm hsm;
  hsm.create_key("stek", {"--value-hex", k_key_hex});
  const std::string variable = "STEK_TEST_PKCS11_PIN";
  ::unsetenv(variable.c_str());
  auto config = hsm.config("stek");
  config.pin_file.reset();
  config.pin_env = variable;
  const auto oracle = open(config);
  const auto error = mac_failure(*oracle);
  CHECK(contains(error.message, "the PIN variable STEK_TEST_PKCS11_PIN is unset or empty"));

  ::setenv(variable.c_str(), SoftHsm::k_user_pin, 1);
  const auto message = bytes_of("pin from the environment");
  CHECK(mac_hex(*oracle, message) == openssl_hmac(hsm.dir(), message, k_key_hex));
  ::unsetenv(variable.c_str());
}

TEST_CASE("pkcs11 oracle: a PIN file readable by others is refused") {
  SoftHsm hsm;
  hsm.create_key("stek", {"--generate"});
  ::chmod(hsm.pin_file().c_str(), 0644);
  const auto oracle = open(hsm.config("stek"));
  const auto error = mac_failure(*oracle, Errc::permission);
  CHECK(contains(error.message, "the PIN file " + hsm.pin_file().string()));
  CHECK(contains(error.message, "mode 0644"));

  ::chmod(hsm.pin_file().c_str(), 0600);
  CHECK(oracle->mac(bytes_of("m")).ok());
}

TEST_CASE("pkcs11 oracle: a missing PIN file is an error naming it") {
  SoftHsm hsm;
  hsm.create_key("stek", {"--generate"});
  auto config = hsm.config("stek");
  config.pin_file = (hsm.dir() / "no-such-pin").string();
  const auto oracle = open(config);
  const auto error = mac_failure(*oracle);
  CHECK(contains(error.message, "PIN file " + *config.pin_file));
}

TEST_CASE("pkcs11 oracle: oracles sharing the module survive each other") {
  // C_Initialize and C_Finalize act on the whole process: the first oracle
  // to go must not finalize the module under the second.
  SoftHsm hsm;
  hsm.create_key("a", {"--value-hex", k_key_hex});
  hsm.create_key("b", {"--generate"});
  auto first = open(hsm.config("a"));
  const auto second = open(hsm.config("b"));
  const auto message = bytes_of("shared module");
  const auto expected = openssl_hmac(hsm.dir(), message, k_key_hex);
  CHECK(mac_hex(*first, message) == expected);
  const auto b_mac = mac_hex(*second, message);
  first.reset();
  CHECK(mac_hex(*second, message) == b_mac);
  // And a fresh oracle after all others are gone loads the module again.
  const auto again = open(hsm.config("a"));
  CHECK(mac_hex(*again, message) == expected);
}

TEST_CASE("pkcs11 oracle: configuration errors name the field") {
  const auto error_of = [](stek::Pkcs11OracleConfig config) {
    const auto opened = stek::open_pkcs11_oracle(std::move(config));
    REQUIRE_FALSE(opened.ok());
    CHECK(opened.error().code == Errc::invalid_argument);
    return opened.error().message;
  };
  const stek::Pkcs11OracleConfig good{"/usr/lib/softhsm/libsofthsm2.so", "fleet",
                                      "stek", "/etc/stek/pin", std::nullopt};
  REQUIRE(stek::open_pkcs11_oracle(good).ok());

  auto config = good;
  config.module.clear();
  CHECK(contains(error_of(config), "derived.oracle.module"));
  config = good;
  config.token.clear();
  CHECK(contains(error_of(config), "derived.oracle.token"));
  config = good;
  config.token = std::string(33, 't');
  CHECK(contains(error_of(config), "derived.oracle.token"));
  config = good;
  config.key.clear();
  CHECK(contains(error_of(config), "derived.oracle.key"));
  config = good;
  config.pin_file.reset();
  CHECK(contains(error_of(config), "derived.oracle.pin_file"));
  config = good;
  config.pin_env = "STEK_PIN";
  CHECK(contains(error_of(config), "derived.oracle.pin_env"));
  config = good;
  config.pin_file = "";
  CHECK(contains(error_of(config), "derived.oracle.pin_file"));
  config = good;
  config.pin_file.reset();
  config.pin_env = "";
  CHECK(contains(error_of(config), "derived.oracle.pin_env"));
}
