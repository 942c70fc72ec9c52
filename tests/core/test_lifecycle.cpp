// SPDX-License-Identifier: Apache-2.0
#include <stek/keystore.hpp>

#include "support/keys.hpp"

#include <doctest/doctest.h>

using namespace std::chrono_literals;
using stek::KeyState;
using stek::test::at;
using stek::test::make_key;

TEST_CASE("stek::Key::state_at boundaries") {
  const auto nb = at("2026-11-28T12:00:00Z");
  const auto eu = at("2026-11-29T00:00:00Z");
  const auto du = at("2026-11-30T00:00:00Z");
  auto key = make_key(nb - 1h, nb, eu, du);

  CHECK(key.state_at(nb - 1s) == KeyState::pending);
  CHECK(key.state_at(nb) == KeyState::active);
  CHECK(key.state_at(eu - 1s) == KeyState::active);
  CHECK(key.state_at(eu) == KeyState::decrypt_only);
  CHECK(key.state_at(du - 1s) == KeyState::decrypt_only);
  CHECK(key.state_at(du) == KeyState::expired);

  SUBCASE("revocation takes effect exactly at its time") {
    const auto r = nb + 2h;
    key.revoked = stek::Revocation{r, "test"};
    CHECK(key.state_at(r - 1s) == KeyState::active);
    CHECK(key.state_at(r) == KeyState::revoked);
    CHECK(key.state_at(du + 1s) == KeyState::revoked);
  }
  SUBCASE("a pending key already decrypts") {
    CHECK(stek::state_decrypts(key.state_at(nb - 1s)));
    CHECK(stek::state_decrypts(key.state_at(eu)));
    CHECK_FALSE(stek::state_decrypts(key.state_at(du)));
  }
  CHECK(stek::key_state_name(KeyState::decrypt_only) == "decrypt-only");
}

TEST_CASE("stek::Keystore::encrypting_key") {
  const auto t0 = at("2026-11-28T12:00:00Z");
  stek::Keystore ks;
  ks.keys.push_back(make_key(t0, t0, t0 + 12h, t0 + 36h));
  ks.keys.push_back(make_key(t0, t0 + 12h, t0 + 24h, t0 + 48h));

  CHECK(ks.encrypting_key(t0 - 1s) == nullptr);
  CHECK(ks.encrypting_key(t0) == &ks.keys[0]);
  CHECK(ks.encrypting_key(t0 + 12h - 1s) == &ks.keys[0]);
  CHECK(ks.encrypting_key(t0 + 12h) == &ks.keys[1]);
  CHECK(ks.encrypting_key(t0 + 24h) == nullptr);

  SUBCASE("overlapping active keys: the latest not_before wins") {
    ks.keys[0].encrypt_until = t0 + 20h;
    CHECK(ks.encrypting_key(t0 + 13h) == &ks.keys[1]);
  }
  SUBCASE("ties: later created, then larger id") {
    auto twin = make_key(t0 + 1s, t0 + 12h, t0 + 24h, t0 + 48h);
    ks.keys.push_back(std::move(twin));
    CHECK(ks.encrypting_key(t0 + 12h) == &ks.keys[2]);
    ks.keys[2].created = ks.keys[1].created;
    const bool larger = ks.keys[2].id > ks.keys[1].id;
    CHECK(ks.encrypting_key(t0 + 12h) == &ks.keys[larger ? 2 : 1]);
  }
  SUBCASE("a revoked key never encrypts") {
    ks.keys[1].revoked = stek::Revocation{t0 + 12h, "leak"};
    CHECK(ks.encrypting_key(t0 + 12h) == nullptr);
  }
}

TEST_CASE("stek::Keystore::validate names the key and field") {
  const auto t0 = at("2026-11-28T12:00:00Z");
  stek::Keystore ks;
  ks.keys.push_back(make_key(t0, t0, t0 + 12h, t0 + 36h));
  ks.keys.push_back(make_key(t0, t0 + 12h, t0 + 24h, t0 + 48h));
  REQUIRE(ks.validate().ok());

  SUBCASE("not_before after encrypt_until") {
    ks.keys[1].not_before = t0 + 25h;
    auto r = ks.validate();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("key #2") != std::string::npos);
    CHECK(r.error().message.find("\"not_before\"") != std::string::npos);
  }
  SUBCASE("encrypt_until after decrypt_until") {
    ks.keys[0].decrypt_until = t0 + 1h;
    CHECK(ks.validate().error().message.find("\"encrypt_until\"") !=
          std::string::npos);
  }
  SUBCASE("duplicate id") {
    ks.keys[1].id = ks.keys[0].id;
    auto r = ks.validate();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("\"id\" duplicates key #1") !=
          std::string::npos);
  }
  SUBCASE("duplicate secret") {
    std::get<stek::Material>(ks.keys[1].secret).bytes =
      std::get<stek::Material>(ks.keys[0].secret).bytes.clone();
    auto r = ks.validate();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("\"material\" repeats the secret of key #1") !=
          std::string::npos);
  }
  SUBCASE("all-zero or short material") {
    std::get<stek::Material>(ks.keys[0].secret).bytes = stek::SecretBytes(32);
    CHECK(ks.validate().error().message.find("all zero") != std::string::npos);
    std::get<stek::Material>(ks.keys[0].secret).bytes = stek::SecretBytes(31);
    CHECK(ks.validate().error().message.find("must be 32 bytes, has 31") !=
          std::string::npos);
  }
  SUBCASE("imported keys: 16 or 32 bytes of each, equal sizes, an origin") {
    auto aes = stek::random_secret(32);
    auto hmac = stek::random_secret(32);
    ks.keys[0].secret =
      stek::ImportedKeys{std::move(aes).value(), std::move(hmac).value()};
    ks.keys[0].origin = "nginx";
    CHECK(ks.validate().ok());
    std::get<stek::ImportedKeys>(ks.keys[0].secret).hmac =
      std::move(stek::random_secret(16)).value();
    CHECK(ks.validate().error().message.find("\"hmac\" must be as long") !=
          std::string::npos);
    std::get<stek::ImportedKeys>(ks.keys[0].secret).hmac =
      std::move(stek::random_secret(32)).value();
    ks.keys[0].origin.reset();
    CHECK(ks.validate().error().message.find("\"origin\"") != std::string::npos);
  }
  SUBCASE("policy") {
    ks.policy.encrypt_for = ks.policy.rotate_every - 1s;
    CHECK(ks.validate().error().message.find("\"policy.encrypt_for\"") !=
          std::string::npos);
    ks.policy.encrypt_for = ks.policy.rotate_every;
    ks.policy.decrypt_for = 0s;
    CHECK(ks.validate().error().message.find("\"policy.decrypt_for\"") !=
          std::string::npos);
    ks.policy.decrypt_for = 1s;
    ks.policy.rotate_every = 0s;
    CHECK_FALSE(ks.validate().ok());
    ks.policy.rotate_every = 1min;
    ks.policy.encrypt_for = 1min;
    ks.policy.publish_ahead = 1001min;
    CHECK(ks.validate().error().message.find("1000 keys") != std::string::npos);
  }
}

TEST_CASE("stek::Keystore::find_by_prefix") {
  const auto t0 = at("2026-11-28T12:00:00Z");
  stek::Keystore ks;
  ks.keys.push_back(make_key(t0, t0, t0 + 12h, t0 + 36h));
  ks.keys.push_back(make_key(t0, t0 + 12h, t0 + 24h, t0 + 48h));
  ks.keys[0].id = *stek::KeyId::from_hex("abcd0000000000000000000000000000");
  ks.keys[1].id = *stek::KeyId::from_hex("abce0000000000000000000000000000");
  CHECK(*ks.find_by_prefix("ABCD") == 0);
  CHECK(*ks.find_by_prefix("abce0000000000000000000000000000") == 1);
  CHECK(ks.find_by_prefix("abc").error().code == stek::Errc::invalid_argument);
  CHECK(ks.find_by_prefix("abcx").error().code == stek::Errc::invalid_argument);
  CHECK(ks.find_by_prefix("ffff").error().code == stek::Errc::not_found);
  ks.keys[1].id = *stek::KeyId::from_hex("abcd1000000000000000000000000000");
  CHECK(ks.find_by_prefix("abcd").error().code == stek::Errc::ambiguous);
  CHECK(*ks.find_by_prefix("abcd1") == 1);
}
