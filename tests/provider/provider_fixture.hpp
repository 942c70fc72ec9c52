// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "support/files.hpp"
#include "support/keys.hpp"

#include <stek/derive.hpp>
#include <stek/formats/file_provider.hpp>
#include <stek/formats/native_keystore.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <thread>

namespace stek::test {

// A keystore of `count` keys in a row under the default policy, the first
// encrypting at `start`: key i is active from start + 12h * i.
inline Keystore keystore_at(Timestamp start, std::size_t count = 2,
                            bool sni_binding = true) {
  Keystore ks;
  ks.policy.sni_binding = sni_binding;
  for (std::size_t i = 0; i < count; ++i) {
    const auto nb = start + std::chrono::hours(12) * static_cast<int>(i);
    ks.keys.push_back(make_key(start, nb, nb + std::chrono::hours(12),
                               nb + std::chrono::hours(36)));
  }
  REQUIRE(ks.validate().ok());
  return ks;
}

inline void save(const std::filesystem::path& path, const Keystore& ks) {
  const auto saved = formats::save_native_keystore(path, ks);
  REQUIRE_MESSAGE(saved.ok(), (saved.ok() ? "" : saved.error().message));
}

// A clock the test moves by hand.
struct TestClock {
  std::shared_ptr<std::atomic<std::int64_t>> seconds =
    std::make_shared<std::atomic<std::int64_t>>(0);

  void set(Timestamp t) { seconds->store(t.time_since_epoch().count()); }
  std::function<Timestamp()> function() const {
    return [s = seconds] { return Timestamp(std::chrono::seconds(s->load())); };
  }
};

inline std::unique_ptr<FileProvider>
open_provider(const std::filesystem::path& path, FileProviderOptions options) {
  auto opened = formats::open_file_provider(path, std::move(options));
  REQUIRE_MESSAGE(opened.ok(), (opened.ok() ? "" : opened.error().message));
  return std::move(opened).value();
}

// Wait up to `timeout` for `condition`; return whether it came true.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout =
                         std::chrono::milliseconds(5000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return condition();
}

inline KeyIdView view_of(const KeyId& id) {
  return KeyIdView(id.bytes().data(), KeyId::k_size);
}

// The 80-byte OpenSSL keys stekctl export --sni NAME would write.
inline OpensslKeys expected_keys(const Key& key, const Binding& binding) {
  auto keys = openssl_keys_for(key, binding, 32);
  REQUIRE(keys.ok());
  return std::move(keys).value();
}

inline bool same(SecretView a, SecretView b) { return ct_equal(a, b); }

} // namespace stek::test
