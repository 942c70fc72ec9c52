// SPDX-License-Identifier: Apache-2.0
// What a FileProvider hands out: which key, for which name, with which
// secrets, at which time. The file never changes in these tests.
#include "provider/provider_fixture.hpp"

#include <stek/crypto.hpp>

#include <set>
#include <vector>

using namespace stek;
using namespace stek::test;

namespace {

// Fixed, so failures reproduce; not via at(), which REQUIREs before main.
const Timestamp k_start = *parse_time("2026-11-28T12:00:00Z");

FileProviderOptions manual_options(const TestClock& clock) {
  FileProviderOptions options;
  options.watch = WatchMode::manual;
  options.clock = clock.function();
  return options;
}

} // namespace

TEST_CASE("provider: the encrypting key, and pending keys decrypt with renew") {
  auto ks = keystore_at(k_start, 3);
  save("ks.json", ks);
  TestClock clock;
  clock.set(k_start + std::chrono::hours(1));
  auto provider = open_provider("ks.json", manual_options(clock));

  auto enc = provider->encryption_key("www.example.com");
  REQUIRE(enc);
  CHECK(enc->id == ks.keys[0].id);
  CHECK_FALSE(enc->renew);

  // The published successors already decrypt, and ask for renewal.
  for (std::size_t i : {std::size_t{1}, std::size_t{2}}) {
    auto dec = provider->decryption_key("www.example.com", view_of(ks.keys[i].id));
    REQUIRE(dec);
    CHECK(dec->renew);
  }
  auto same_key = provider->decryption_key("www.example.com", view_of(ks.keys[0].id));
  REQUIRE(same_key);
  CHECK_FALSE(same_key->renew);
  CHECK(same(same_key->aes(), enc->aes()));
  CHECK(same(same_key->hmac(), enc->hmac()));

  auto unknown = KeyId::random();
  REQUIRE(unknown.ok());
  CHECK_FALSE(provider->decryption_key("www.example.com", view_of(*unknown)));
}

TEST_CASE("provider: states follow the clock with no change to the file") {
  auto ks = keystore_at(k_start, 2);
  save("ks.json", ks);
  TestClock clock;
  clock.set(k_start);
  auto provider = open_provider("ks.json", manual_options(clock));
  CHECK(provider->encryption_key(std::nullopt)->id == ks.keys[0].id);

  // The successor takes over at its not_before; the first only decrypts.
  clock.set(ks.keys[1].not_before);
  CHECK(provider->encryption_key(std::nullopt)->id == ks.keys[1].id);
  auto old = provider->decryption_key(std::nullopt, view_of(ks.keys[0].id));
  REQUIRE(old);
  CHECK(old->renew);

  // Past its decrypt_until the first key is gone; past every key, nothing
  // encrypts and the server issues no tickets.
  clock.set(ks.keys[0].decrypt_until);
  CHECK_FALSE(provider->decryption_key(std::nullopt, view_of(ks.keys[0].id)));
  clock.set(ks.keys[1].decrypt_until);
  CHECK_FALSE(provider->encryption_key(std::nullopt));
  CHECK(provider->status().generation == 1);
}

TEST_CASE("provider: revoked keys neither encrypt nor decrypt from their revocation") {
  auto ks = keystore_at(k_start, 2);
  const auto revoked_at = k_start + std::chrono::hours(2);
  ks.keys[0].revoked = Revocation{revoked_at, "test"};
  save("ks.json", ks);
  TestClock clock;
  clock.set(k_start + std::chrono::hours(1));
  auto provider = open_provider("ks.json", manual_options(clock));
  CHECK(provider->encryption_key(std::nullopt)->id == ks.keys[0].id);
  clock.set(revoked_at);
  CHECK_FALSE(provider->encryption_key(std::nullopt));
  CHECK_FALSE(provider->decryption_key(std::nullopt, view_of(ks.keys[0].id)));
  CHECK(provider->decryption_key(std::nullopt, view_of(ks.keys[1].id)));
}

TEST_CASE("provider: per-name secrets are what export --sni writes") {
  auto ks = keystore_at(k_start, 2);
  save("ks.json", ks);
  TestClock clock;
  clock.set(k_start);
  auto provider = open_provider("ks.json", manual_options(clock));

  const auto a = expected_keys(ks.keys[0], Binding::server_name("a.example"));
  const auto b = expected_keys(ks.keys[0], Binding::server_name("b.example"));
  const auto none = expected_keys(ks.keys[0], Binding::no_server_name());
  const auto unbound = expected_keys(ks.keys[0], Binding::unbound());

  auto key_a = provider->encryption_key("a.example");
  REQUIRE(key_a);
  CHECK(same(key_a->aes(), a.aes.view()));
  CHECK(same(key_a->hmac(), a.hmac.view()));
  auto material_a = material_for(ks.keys[0], Binding::server_name("a.example"));
  REQUIRE(material_a.ok());
  CHECK(key_a->has_material);
  CHECK(same(key_a->material(), material_a->view()));

  // Normalized as stekctl export normalizes: case and one trailing dot.
  auto key_upper = provider->encryption_key("A.Example.");
  REQUIRE(key_upper);
  CHECK(same(key_upper->aes(), a.aes.view()));

  auto key_b = provider->decryption_key("b.example", view_of(ks.keys[0].id));
  REQUIRE(key_b);
  CHECK(same(key_b->aes(), b.aes.view()));
  CHECK_FALSE(same(key_b->aes(), key_a->aes()));

  auto key_none = provider->encryption_key(std::nullopt);
  REQUIRE(key_none);
  CHECK(same(key_none->hmac(), none.hmac.view()));
  CHECK_FALSE(same(key_none->aes(), unbound.aes.view()));

  // A name that cannot be a host name gets no key at all, rather than the
  // keys of another name.
  CHECK_FALSE(provider->encryption_key("bad name"));
  CHECK_FALSE(provider->encryption_key(""));
  CHECK_FALSE(provider->decryption_key("a..example", view_of(ks.keys[0].id)));
}

TEST_CASE("provider: with sni_binding false every name gets the unbound keys") {
  auto ks = keystore_at(k_start, 2, false);
  save("ks.json", ks);
  TestClock clock;
  clock.set(k_start);
  auto provider = open_provider("ks.json", manual_options(clock));
  const auto unbound = expected_keys(ks.keys[0], Binding::unbound());
  for (const auto& name : {std::optional<std::string_view>("a.example"),
                           std::optional<std::string_view>("b.example"),
                           std::optional<std::string_view>()}) {
    auto key = provider->encryption_key(name);
    REQUIRE(key);
    CHECK(same(key->aes(), unbound.aes.view()));
    CHECK(same(key->hmac(), unbound.hmac.view()));
    const auto material = std::get<Material>(ks.keys[0].secret).bytes.view();
    CHECK(same(key->material(), material));
  }
}

TEST_CASE("provider: more names than the cache holds still get their own keys") {
  auto ks = keystore_at(k_start, 1);
  save("ks.json", ks);
  TestClock clock;
  clock.set(k_start);
  auto options = manual_options(clock);
  options.derived_cache_entries = 4;
  auto provider = open_provider("ks.json", std::move(options));
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 50; ++i) {
      const auto name = "host" + std::to_string(i) + ".example";
      auto key = provider->encryption_key(name);
      REQUIRE(key);
      const auto expected = expected_keys(ks.keys[0], Binding::server_name(name));
      CHECK(same(key->aes(), expected.aes.view()));
      CHECK(same(key->hmac(), expected.hmac.view()));
    }
  }
}

TEST_CASE("provider: imported keys are handed out unbound; 16-byte imports not at all") {
  auto ks = keystore_at(k_start, 1);
  auto wide = make_key(k_start, k_start, k_start + std::chrono::hours(1),
                       k_start + std::chrono::hours(30));
  wide.secret = ImportedKeys{*random_secret(32), *random_secret(32)};
  wide.origin = "nginx";
  wide.not_before = k_start + std::chrono::minutes(1); // encrypts first
  auto narrow = make_key(k_start, k_start, k_start + std::chrono::hours(1),
                         k_start + std::chrono::hours(30));
  narrow.secret = ImportedKeys{*random_secret(16), *random_secret(16)};
  narrow.origin = "nginx48";
  narrow.not_before = k_start + std::chrono::minutes(2);
  const auto wide_id = wide.id;
  const auto narrow_id = narrow.id;
  const auto wide_aes = std::get<ImportedKeys>(wide.secret).aes.clone();
  ks.keys.push_back(std::move(wide));
  ks.keys.push_back(std::move(narrow));
  REQUIRE(ks.validate().ok());
  save("ks.json", ks);

  TestClock clock;
  clock.set(k_start + std::chrono::minutes(5));
  auto provider = open_provider("ks.json", manual_options(clock));
  // The 16-byte import would encrypt in the keystore; the provider skips it.
  auto enc = provider->encryption_key("a.example");
  REQUIRE(enc);
  CHECK(enc->id == wide_id);
  CHECK_FALSE(enc->has_material);
  CHECK(same(enc->aes(), wide_aes.view()));
  CHECK_FALSE(provider->decryption_key("a.example", view_of(narrow_id)));
  CHECK(provider->status().message.find(narrow_id.hex()) != std::string::npos);
}

TEST_CASE("provider: lookups from many threads agree") {
  auto ks = keystore_at(k_start, 3);
  save("ks.json", ks);
  TestClock clock;
  clock.set(k_start);
  auto options = manual_options(clock);
  options.derived_cache_entries = 16;
  auto provider = open_provider("ks.json", std::move(options));
  std::vector<OpensslKeys> expected;
  for (int i = 0; i < 32; ++i) {
    expected.push_back(expected_keys(
      ks.keys[0], Binding::server_name("n" + std::to_string(i) + ".example")));
  }
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 200; ++round) {
        const int i = (round * 7 + t) % 32;
        auto key = provider->encryption_key("n" + std::to_string(i) + ".example");
        if (!key || !same(key->aes(), expected[static_cast<std::size_t>(i)].aes.view())) {
          ++wrong;
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  CHECK(wrong.load() == 0);
}

TEST_CASE("provider: open fails on a missing, insecure or invalid keystore, naming it") {
  auto missing = formats::open_file_provider("nope.json", {});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("nope.json") != std::string::npos);

  save("ks.json", keystore_at(k_start));
  ::chmod("ks.json", 0644);
  auto loose = formats::open_file_provider("ks.json", {});
  REQUIRE_FALSE(loose.ok());
  CHECK(loose.error().code == Errc::permission);
  FileProviderOptions relaxed;
  relaxed.require_private = false;
  relaxed.watch = WatchMode::manual;
  CHECK(formats::open_file_provider("ks.json", std::move(relaxed)).ok());

  write_file("bad.json", "{\"stek_keystore\": 1,");
  auto bad = formats::open_file_provider("bad.json", {});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("bad.json") != std::string::npos);

  auto no_parser = FileProvider::open("ks.json", {});
  REQUIRE_FALSE(no_parser.ok());
  CHECK(no_parser.error().code == Errc::invalid_argument);
}
