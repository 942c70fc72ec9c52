// SPDX-License-Identifier: Apache-2.0
#pragma once

// A MAC oracle in-process for provider tests: HMAC-SHA256 under a fixed key,
// counting calls per epoch, and switchable to fail or to misbehave.

#include <stek/derived_keystore.hpp>
#include <stek/keystore.hpp>
#include <stek/oracle.hpp>

#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace stek::test {

// What the test sees of a FakeOracle once the provider owns it.
struct FakeOracleLog {
  std::mutex mutex;
  bool failing = false;
  // Return the same MAC for every message (an oracle that ignores its
  // input, e.g. a command with a fixed key id typo).
  bool constant = false;
  // Every call in order: the epoch asked for, when (the test clock, if
  // set), and whether it succeeded.
  struct Call {
    Epoch epoch = 0;
    Timestamp at{};
    bool ok = false;
  };
  std::vector<Call> calls;
  std::function<Timestamp()> clock;

  void set_failing(bool value) {
    std::lock_guard lock(mutex);
    failing = value;
  }
  std::vector<Call> snapshot() {
    std::lock_guard lock(mutex);
    return calls;
  }
  // Successful calls per epoch.
  std::map<Epoch, int> successes() {
    std::map<Epoch, int> out;
    for (const auto& call : snapshot()) {
      out[call.epoch] += call.ok ? 1 : 0;
    }
    return out;
  }
  std::size_t failures() {
    std::size_t n = 0;
    for (const auto& call : snapshot()) {
      n += call.ok ? 0 : 1;
    }
    return n;
  }
};

inline constexpr std::array<std::uint8_t, 32> k_fake_oracle_key = {
  0x6b, 0x65, 0x79, 0x20, 0x6f, 0x66, 0x20, 0x74, 0x68, 0x65, 0x20,
  0x66, 0x61, 0x6b, 0x65, 0x20, 0x6f, 0x72, 0x61, 0x63, 0x6c, 0x65,
  0x20, 0x66, 0x6f, 0x72, 0x20, 0x74, 0x65, 0x73, 0x74, 0x73};

class FakeOracle final : public MacOracle {
public:
  explicit FakeOracle(std::shared_ptr<FakeOracleLog> log = std::make_shared<FakeOracleLog>())
    : m_log(std::move(log)) {}

  Result<SecretBytes> mac(std::span<const std::uint8_t> message) override {
    std::lock_guard lock(m_log->mutex);
    FakeOracleLog::Call call;
    // The message ends in u64be n (epoch_mac_input).
    std::uint64_t n = 0;
    for (std::size_t i = message.size() - 8; i < message.size(); ++i) {
      n = (n << 8) | message[i];
    }
    call.epoch = static_cast<Epoch>(n);
    call.at = m_log->clock ? m_log->clock() : Timestamp{};
    call.ok = !m_log->failing;
    m_log->calls.push_back(call);
    if (m_log->failing) {
      return fail(Errc::oracle, describe() + ": token not present (test)");
    }
    SecretBytes out(k_mac_size);
    unsigned int size = 0;
    const std::uint8_t fixed[1] = {0};
    const auto input = m_log->constant ? std::span<const std::uint8_t>(fixed) : message;
    // Called on the provider's thread: report, do not REQUIRE.
    if (HMAC(EVP_sha256(), k_fake_oracle_key.data(),
             static_cast<int>(k_fake_oracle_key.size()), input.data(),
             input.size(), out.reveal_mutable().data(), &size) == nullptr ||
        size != k_mac_size) {
      return fail(Errc::oracle, describe() + ": HMAC failed (test)");
    }
    return out;
  }

  std::string describe() const override { return "fake oracle (test)"; }

private:
  std::shared_ptr<FakeOracleLog> m_log;
};

// A derived keystore whose epochs are `rotate_every` long (encrypting for
// one epoch unless told otherwise, decrypting two more), published
// `publish_ahead` early. Its oracle section is a placeholder command: the
// tests hand the provider a FakeOracle.
inline Keystore derived_keystore(Duration rotate_every = std::chrono::hours(1),
                                 Duration publish_ahead = std::chrono::minutes(10),
                                 Duration encrypt_for = Duration::zero(),
                                 Duration decrypt_for = Duration::zero()) {
  Keystore ks;
  ks.policy.rotate_every = rotate_every;
  ks.policy.publish_ahead = publish_ahead;
  ks.policy.encrypt_for = encrypt_for == Duration::zero() ? rotate_every : encrypt_for;
  ks.policy.decrypt_for = decrypt_for == Duration::zero() ? 2 * rotate_every : decrypt_for;
  Derivation derivation;
  derivation.fleet = "edge-test";
  derivation.generation = 1;
  CommandOracleConfig command;
  command.command = "false";
  command.output = CommandOracleConfig::Output::hex;
  derivation.oracle = command;
  ks.derivation = derivation;
  const auto valid = ks.validate();
  REQUIRE_MESSAGE(valid.ok(), (valid.ok() ? "" : valid.error().message));
  return ks;
}

// Epoch n's key as the provider must serve it, computed here.
inline Key expected_epoch_key(const Keystore& ks, Epoch n) {
  FakeOracle oracle;
  auto key = derive_epoch_key(ks.policy, *ks.derivation, n, oracle);
  REQUIRE(key.ok());
  return std::move(key).value();
}

} // namespace stek::test
