// SPDX-License-Identifier: Apache-2.0
// The pure part of derived keystores (stek/derived_keystore.hpp): epoch
// arithmetic, the documented MAC input and id, the epochs a server holds,
// and validation. The oracles and the provider have tests of their own.
#include "fake_oracle.hpp"

#include <stek/derived_keystore.hpp>
#include <stek/encoding.hpp>
#include <stek/keystore.hpp>

#include <doctest/doctest.h>

using namespace std::chrono_literals;

namespace {

stek::Keystore derived_keystore() {
  stek::Keystore ks;
  ks.policy.rotate_every = 1h;
  ks.policy.publish_ahead = 10min;
  ks.policy.encrypt_for = 1h;
  ks.policy.decrypt_for = 2h;
  stek::CommandOracleConfig command;
  command.command = "true";
  ks.derivation = stek::Derivation{"web", 1, command};
  return ks;
}

stek::Timestamp at(const char* text) { return *stek::parse_time(text); }

} // namespace

TEST_CASE("epochs are counted from 1970 in whole epoch lengths, floor included") {
  const auto ks = derived_keystore();
  CHECK(stek::epoch_at(ks.policy, at("2026-11-29T10:30:00Z")) == 498874);
  CHECK(stek::epoch_at(ks.policy, at("2026-11-29T10:00:00Z")) == 498874);
  CHECK(stek::epoch_at(ks.policy, at("2026-11-29T09:59:59Z")) == 498873);
  CHECK(stek::epoch_start(ks.policy, 498874) == at("2026-11-29T10:00:00Z"));
  // Before 1970 the division still rounds down, not towards zero.
  CHECK(stek::epoch_at(ks.policy, stek::Timestamp(-1s)) == -1);
  CHECK(stek::epoch_at(ks.policy, stek::Timestamp(-3600s)) == -1);
  CHECK(stek::epoch_at(ks.policy, stek::Timestamp(-3601s)) == -2);
}

TEST_CASE("the MAC input and the id follow stekctl-keystore(5) byte for byte") {
  const auto ks = derived_keystore();
  const auto input = stek::epoch_mac_input(ks.policy, *ks.derivation, 498874);
  CHECK(stek::hex_encode(input) ==
        "7374656b63746c2064657269766564205354454b2076310003776562"
        "000000010000000000000e100000000000079cba");
  CHECK(stek::epoch_key_id(ks.policy, *ks.derivation, 498874).hex() ==
        "0396d39c990f781cc922451ebfb75635");
  // Every field changes the id: fleet, generation, epoch length, epoch.
  auto other = ks.clone();
  other.derivation->fleet = "web2";
  CHECK(stek::epoch_key_id(other.policy, *other.derivation, 498874) !=
        stek::epoch_key_id(ks.policy, *ks.derivation, 498874));
  other = ks.clone();
  other.derivation->generation = 2;
  CHECK(stek::epoch_key_id(other.policy, *other.derivation, 498874) !=
        stek::epoch_key_id(ks.policy, *ks.derivation, 498874));
  other = ks.clone();
  other.policy.rotate_every = 2h;
  CHECK(stek::epoch_key_id(other.policy, *other.derivation, 498874) !=
        stek::epoch_key_id(ks.policy, *ks.derivation, 498874));
  CHECK(stek::epoch_key_id(ks.policy, *ks.derivation, 498875) !=
        stek::epoch_key_id(ks.policy, *ks.derivation, 498874));
}

TEST_CASE("an epoch's key has the times of a generated key") {
  const auto ks = derived_keystore();
  const auto key = stek::epoch_key_public(ks.policy, *ks.derivation, 498874);
  CHECK(key.not_before == at("2026-11-29T10:00:00Z"));
  CHECK(key.created == at("2026-11-29T09:50:00Z"));
  CHECK(key.encrypt_until == at("2026-11-29T11:00:00Z"));
  CHECK(key.decrypt_until == at("2026-11-29T13:00:00Z"));
  CHECK(key.epoch == 498874);
}

TEST_CASE("a server holds every epoch that decrypts or is published") {
  const auto ks = derived_keystore();
  // 10:30: 498872 decrypts until 11:00, 498873 until 12:00, 498874
  // encrypts; 498875 is published at 10:50.
  CHECK(stek::epochs_needed_at(ks.policy, at("2026-11-29T10:30:00Z")) ==
        std::vector<stek::Epoch>{498872, 498873, 498874});
  CHECK(stek::epochs_needed_at(ks.policy, at("2026-11-29T10:50:00Z")) ==
        std::vector<stek::Epoch>{498872, 498873, 498874, 498875});
  // At 11:00 epoch 498872 stops decrypting.
  CHECK(stek::epochs_needed_at(ks.policy, at("2026-11-29T11:00:00Z")) ==
        std::vector<stek::Epoch>{498873, 498874, 498875});
}

TEST_CASE("materialize makes a valid plain keystore, one oracle call per epoch") {
  const auto ks = derived_keystore();
  auto log = std::make_shared<stek::test::FakeOracleLog>();
  stek::test::FakeOracle oracle(log);
  const std::vector<stek::Epoch> epochs{498873, 498874};
  auto plain = stek::materialize(ks, epochs, oracle);
  REQUIRE(plain.ok());
  CHECK(!plain->is_derived());
  CHECK(plain->validate().ok());
  REQUIRE(plain->keys.size() == 2);
  CHECK(plain->encrypting_key(at("2026-11-29T10:30:00Z"))->epoch == 498874);
  CHECK(log->snapshot().size() == 2);
  // An oracle failure comes back as it is.
  log->set_failing(true);
  auto failed = stek::materialize(ks, epochs, oracle);
  REQUIRE(!failed.ok());
  CHECK(failed.error().code == stek::Errc::oracle);
}

TEST_CASE("find_epoch_by_id searches a window of epochs") {
  const auto ks = derived_keystore();
  const auto id = stek::epoch_key_id(ks.policy, *ks.derivation, 498800);
  CHECK(stek::find_epoch_by_id(ks.policy, *ks.derivation, id, 498000, 499000) == 498800);
  CHECK(!stek::find_epoch_by_id(ks.policy, *ks.derivation, id, 498801, 499000));
}

TEST_CASE("a derived keystore is validated: fleet, generation, oracle, epochs held") {
  auto ks = derived_keystore();
  CHECK(ks.validate().ok());
  ks.derivation->fleet = "web prod";
  CHECK(ks.validate().error().message.find("\"derived.fleet\"") != std::string::npos);
  ks = derived_keystore();
  ks.derivation->fleet = std::string(65, 'a');
  CHECK(!ks.validate().ok());
  ks = derived_keystore();
  ks.derivation->generation = 0;
  CHECK(ks.validate().error().message.find("\"derived.generation\"") != std::string::npos);
  ks = derived_keystore();
  ks.derivation->oracle = stek::Pkcs11OracleConfig{"/m.so", "t", "k", "/pin", "PIN"};
  CHECK(ks.validate().error().message.find("exactly one of") != std::string::npos);
  ks = derived_keystore();
  ks.derivation->oracle = stek::Pkcs11OracleConfig{"", "t", "k", "/pin", std::nullopt};
  CHECK(ks.validate().error().message.find("\"derived.oracle.module\"") != std::string::npos);
  ks = derived_keystore();
  ks.policy.rotate_every = 1min;
  ks.policy.encrypt_for = 1min;
  ks.policy.decrypt_for = 24h;
  CHECK(ks.validate().error().message.find("too short for a derived keystore") !=
        std::string::npos);
  // A derived keystore holds no keys.
  ks = derived_keystore();
  ks.keys.push_back(stek::epoch_key_public(ks.policy, *ks.derivation, 1));
  CHECK(ks.validate().error().message.find("holds no keys") != std::string::npos);
}
