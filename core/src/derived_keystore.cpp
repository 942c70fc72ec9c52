// SPDX-License-Identifier: Apache-2.0
#include <stek/derived_keystore.hpp>

#include <stek/crypto.hpp>
#include <stek/keystore.hpp>

#include <algorithm>
#include <string_view>

namespace stek {
namespace {

constexpr std::string_view k_mac_label = "stekctl derived STEK v1";
constexpr std::string_view k_id_label = "stekctl derived key id v1";
constexpr std::size_t k_max_fleet_length = 64;

bool fleet_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

void put_be(std::vector<std::uint8_t>& out, std::uint64_t value, int bytes) {
  for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8) {
    out.push_back(static_cast<std::uint8_t>(value >> shift));
  }
}

// label 0x00 || u8 len(fleet) || fleet || u32be generation
// || u64be rotate_every || u64be n: every field fixed-size or
// length-prefixed, so no two inputs share an encoding.
std::vector<std::uint8_t> labelled_input(std::string_view label,
                                         const Policy& policy,
                                         const Derivation& derivation,
                                         Epoch n) {
  std::vector<std::uint8_t> out(label.begin(), label.end());
  out.push_back(0);
  out.push_back(static_cast<std::uint8_t>(derivation.fleet.size()));
  out.insert(out.end(), derivation.fleet.begin(), derivation.fleet.end());
  put_be(out, derivation.generation, 4);
  put_be(out, static_cast<std::uint64_t>(policy.rotate_every.count()), 8);
  put_be(out, static_cast<std::uint64_t>(n), 8);
  return out;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

Result<void> validate_oracle(const OracleConfig& oracle) {
  const auto missing = [](std::string_view field) {
    return fail(Errc::invalid_keystore,
                "\"derived.oracle." + std::string(field) + "\" is missing or empty");
  };
  if (const auto* p = std::get_if<Pkcs11OracleConfig>(&oracle)) {
    if (p->module.empty()) {
      return missing("module");
    }
    if (p->token.empty()) {
      return missing("token");
    }
    if (p->key.empty()) {
      return missing("key");
    }
    const bool file = p->pin_file && !p->pin_file->empty();
    const bool env = p->pin_env && !p->pin_env->empty();
    STEK_ENSURE(file != env, Errc::invalid_keystore,
                "\"derived.oracle\" needs exactly one of \"pin_file\" and "
                "\"pin_env\"; a PIN is never written in the keystore");
    return {};
  }
  const auto& c = std::get<CommandOracleConfig>(oracle);
  if (c.command.empty()) {
    return missing("command");
  }
  STEK_ENSURE(c.timeout > Duration::zero(), Errc::invalid_keystore,
              "\"derived.oracle.timeout\" must be positive");
  return {};
}

} // namespace

Result<void> Derivation::validate() const {
  STEK_ENSURE(!fleet.empty() && fleet.size() <= k_max_fleet_length &&
                std::all_of(fleet.begin(), fleet.end(), fleet_char),
              Errc::invalid_keystore,
              "\"derived.fleet\" must be 1 to 64 characters of A-Z a-z 0-9 "
              ". _ -");
  STEK_ENSURE(generation >= 1, Errc::invalid_keystore,
              "\"derived.generation\" must be at least 1");
  return validate_oracle(oracle);
}

Epoch epoch_at(const Policy& policy, Timestamp t) {
  return floor_div(t.time_since_epoch().count(), policy.rotate_every.count());
}

Timestamp epoch_start(const Policy& policy, Epoch n) {
  return Timestamp(policy.rotate_every * n);
}

std::vector<std::uint8_t>
epoch_mac_input(const Policy& policy, const Derivation& derivation, Epoch n) {
  return labelled_input(k_mac_label, policy, derivation, n);
}

KeyId epoch_key_id(const Policy& policy, const Derivation& derivation, Epoch n) {
  const auto digest =
    sha256(labelled_input(k_id_label, policy, derivation, n));
  KeyId::Bytes bytes{};
  std::copy_n(digest.begin(), bytes.size(), bytes.begin());
  return KeyId(bytes);
}

Key epoch_key_public(const Policy& policy, const Derivation& derivation, Epoch n) {
  Key key;
  key.id = epoch_key_id(policy, derivation, n);
  key.not_before = epoch_start(policy, n);
  key.created = key.not_before - policy.publish_ahead;
  key.encrypt_until = key.not_before + policy.encrypt_for;
  key.decrypt_until = key.encrypt_until + policy.decrypt_for;
  key.epoch = n;
  return key;
}

Result<Key> derive_epoch_key(const Policy& policy,
                             const Derivation& derivation,
                             Epoch n,
                             MacOracle& oracle) {
  Key key = epoch_key_public(policy, derivation, n);
  STEK_TRY_ASSIGN(auto mac, oracle.mac(epoch_mac_input(policy, derivation, n)));
  STEK_ENSURE(mac.size() == Material::k_size, Errc::oracle,
              oracle.describe() + ": returned " + std::to_string(mac.size()) +
                " bytes for epoch " + std::to_string(n) +
                "; a STEK needs a 32-byte HMAC-SHA256");
  key.secret = Material{std::move(mac)};
  return key;
}

std::vector<Epoch> epochs_needed_at(const Policy& policy, Timestamp t) {
  // Still decrypting: start(n) + encrypt_for + decrypt_for > t.
  // Published: start(n) - publish_ahead <= t.
  const auto seconds = t.time_since_epoch().count();
  const auto length = policy.rotate_every.count();
  const Epoch first =
    floor_div(seconds - (policy.encrypt_for + policy.decrypt_for).count(),
              length) + 1;
  const Epoch last = floor_div(seconds + policy.publish_ahead.count(), length);
  std::vector<Epoch> epochs;
  for (Epoch n = first; n <= last; ++n) {
    epochs.push_back(n);
  }
  return epochs;
}

std::optional<Epoch> find_epoch_by_id(const Policy& policy,
                                      const Derivation& derivation,
                                      const KeyId& id,
                                      Epoch first,
                                      Epoch last) {
  for (Epoch n = first; n <= last; ++n) {
    if (epoch_key_id(policy, derivation, n) == id) {
      return n;
    }
  }
  return std::nullopt;
}

Result<Keystore> materialize(const Keystore& derived,
                             const std::vector<Epoch>& epochs,
                             MacOracle& oracle) {
  STEK_ENSURE(derived.derivation.has_value(), Errc::invalid_argument,
              "not a derived keystore");
  Keystore plain;
  plain.policy = derived.policy;
  plain.keys.reserve(epochs.size());
  for (const Epoch n : epochs) {
    STEK_TRY_ASSIGN(auto key,
                    derive_epoch_key(derived.policy, *derived.derivation, n,
                                     oracle));
    plain.keys.push_back(std::move(key));
  }
  return plain;
}

} // namespace stek
