// SPDX-License-Identifier: Apache-2.0
// The DerivedProvider with a clock the test moves and an in-process oracle:
// when it calls the oracle (once per epoch, at a random moment in the first
// half of the publish-ahead window), what it serves through an outage, what
// it logs, and real OpenSSL handshakes across an epoch change.
#include "derived/fake_oracle.hpp"
#include "provider/provider_fixture.hpp"
#include "provider/tls_pair.hpp"

#include "provider/derived_provider_testing.hpp"
#include "provider/derived_schedule.hpp"

#include <stek/derived_provider.hpp>
#include <stek/formats/derived_provider.hpp>
#include <stek/openssl_tickets.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <thread>

using namespace stek;
using namespace stek::test;
using namespace std::chrono_literals;

namespace {

// Fixed, so failures reproduce; not via at(), which REQUIREs before main.
const Timestamp k_noon = *parse_time("2026-11-28T12:00:00Z");

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// A provider on a derived keystore, its clock, its oracle's record and what
// it logged.
struct Fleet {
  Keystore ks;
  TestClock clock;
  std::shared_ptr<FakeOracleLog> oracle = std::make_shared<FakeOracleLog>();
  std::mutex mutex;
  std::vector<std::string> logs;
  std::vector<DerivedProviderStatus> statuses;
  std::unique_ptr<DerivedProvider> provider;

  explicit Fleet(Keystore keystore, Timestamp now = k_noon + 30min)
    : ks(std::move(keystore)) {
    clock.set(now);
    oracle->clock = clock.function();
  }

  DerivedProviderOptions options(std::uint64_t seed = 1) {
    DerivedProviderOptions o;
    o.clock = clock.function();
    o.jitter_seed = seed;
    o.retry_first = 1000ms;
    o.retry_cap = 8000ms;
    o.on_log = [this](std::string_view line) {
      std::lock_guard lock(mutex);
      logs.emplace_back(line);
    };
    o.on_status = [this](const DerivedProviderStatus& status) {
      std::lock_guard lock(mutex);
      statuses.push_back(status);
    };
    return o;
  }

  Result<std::unique_ptr<DerivedProvider>> try_open(DerivedProviderOptions o) {
    return DerivedProvider::open(ks.clone(), std::make_unique<FakeOracle>(oracle),
                                 std::move(o));
  }

  void open(std::uint64_t seed = 1) { open_with(options(seed)); }
  void open_with(DerivedProviderOptions o) {
    auto opened = try_open(std::move(o));
    REQUIRE_MESSAGE(opened.ok(), (opened.ok() ? "" : opened.error().message));
    provider = std::move(opened).value();
    settle();
  }

  // Let the fetching thread catch up with the clock.
  void settle() { detail::DerivedProviderTesting::run_pass(*provider); }

  Timestamp now() { return clock.function()(); }
  void set(Timestamp t) {
    clock.set(t);
    settle();
  }
  void advance(Duration d) { set(now() + d); }

  std::size_t logged(std::string_view part) {
    std::lock_guard lock(mutex);
    return static_cast<std::size_t>(std::count_if(
      logs.begin(), logs.end(), [&](const std::string& l) { return contains(l, part); }));
  }
  std::string all_logs() {
    std::lock_guard lock(mutex);
    std::string out;
    for (const auto& l : logs) {
      out += l + "\n";
    }
    return out;
  }

  std::optional<KeyId> encrypting(std::optional<std::string_view> sni = "a.example") {
    auto key = provider->encryption_key(sni);
    return key ? std::optional<KeyId>(key->id) : std::nullopt;
  }
  KeyId id_of(Epoch n) const { return epoch_key_id(ks.policy, *ks.derivation, n); }
  Epoch epoch(Timestamp t) const { return epoch_at(ks.policy, t); }
};

} // namespace

TEST_CASE("derived provider: open fetches the current epoch first, then the rest") {
  // 12:55: epochs 10, 11 still decrypt, 12 encrypts, 13 is published.
  Fleet fleet(derived_keystore(1h, 10min), k_noon + 55min);
  fleet.open();
  const Epoch current = fleet.epoch(k_noon);
  const auto calls = fleet.oracle->snapshot();
  REQUIRE(calls.size() == 4);
  CHECK(calls[0].epoch == current);
  CHECK(calls[1].epoch == current - 1);
  CHECK(calls[2].epoch == current - 2);
  CHECK(calls[3].epoch == current + 1);

  const auto status = fleet.provider->status();
  CHECK(status.first_epoch == current - 2);
  CHECK(status.last_epoch == current + 1);
  CHECK(status.epochs == 4);
  CHECK(status.runs_out_at == k_noon + 2h);
  CHECK(status.oracle_ok);
  CHECK(status.message.empty());
  CHECK(status.oracle_calls == 4);
  CHECK(status.oracle_failures == 0);
  CHECK(status.checked_at != std::chrono::system_clock::time_point{});

  // The keys are derive_epoch_key's, bound to the name like FileProvider's.
  auto key = fleet.provider->encryption_key("a.example");
  REQUIRE(key);
  const Key expected = expected_epoch_key(fleet.ks, current);
  CHECK(key->id == expected.id);
  CHECK(key->id == fleet.id_of(current));
  CHECK_FALSE(key->renew);
  const auto openssl = expected_keys(expected, Binding::server_name("a.example"));
  CHECK(same(key->aes(), openssl.aes.view()));
  CHECK(same(key->hmac(), openssl.hmac.view()));

  auto older = fleet.provider->decryption_key("a.example", view_of(fleet.id_of(current - 2)));
  REQUIRE(older);
  CHECK(older->renew);
  CHECK(fleet.provider->decryption_key("a.example", view_of(fleet.id_of(current + 1))));
  CHECK_FALSE(fleet.provider->decryption_key("a.example", view_of(fleet.id_of(current - 3))));
  CHECK(fleet.logged("") == 0);
}

TEST_CASE("derived provider: a simulated day calls the oracle once per epoch, "
          "early in each window") {
  Fleet fleet(derived_keystore(1h, 10min), k_noon + 30min);
  fleet.open(7);
  const Timestamp end = k_noon + 30min + 24h;
  std::size_t lookups_without_key = 0;
  while (fleet.now() < end) {
    fleet.advance(1min);
    const auto id = fleet.encrypting();
    lookups_without_key += id ? 0u : 1u;
    if (id) {
      CHECK(*id == fleet.id_of(fleet.epoch(fleet.now())));
    }
  }
  CHECK(lookups_without_key == 0);

  const auto successes = fleet.oracle->successes();
  const Epoch first = fleet.epoch(k_noon) - 2;
  const Epoch last = fleet.epoch(end) + 1;
  CHECK(successes.begin()->first == first);
  CHECK(successes.rbegin()->first <= last);
  for (Epoch n = first; n < last; ++n) {
    CAPTURE(n);
    CHECK(successes.at(n) == 1);
  }
  CHECK(fleet.oracle->failures() == 0);

  // Fetched in [start - 10min, start - 5min), seen within the minute step;
  // and spread, not all at one offset.
  std::set<std::int64_t> offsets;
  for (const auto& call : fleet.oracle->snapshot()) {
    if (call.epoch <= fleet.epoch(k_noon)) {
      continue; // fetched at open
    }
    const auto start = epoch_start(fleet.ks.policy, call.epoch);
    CAPTURE(call.epoch);
    CHECK(call.at >= start - 10min);
    CHECK(call.at < start - 5min + 1min);
    offsets.insert((start - call.at).count());
  }
  CHECK(offsets.size() >= 4);

  const auto status = fleet.provider->status();
  CHECK(status.first_epoch == fleet.epoch(end) - 2);
  CHECK(status.oracle_calls == fleet.oracle->snapshot().size());
  CHECK(fleet.logged("") == 0);
}

TEST_CASE("derived provider: two seeds pick different moments") {
  std::vector<Timestamp> moments;
  for (const std::uint64_t seed : {11u, 12u}) {
    Fleet fleet(derived_keystore(1h, 1h), k_noon + 1s);
    fleet.open(seed);
    const auto before = fleet.oracle->snapshot().size();
    while (fleet.oracle->snapshot().size() == before) {
      fleet.advance(1s);
    }
    moments.push_back(fleet.oracle->snapshot().back().at);
  }
  // 1800 possible seconds each; equal only by a 1/1800 accident.
  CHECK(moments[0] != moments[1]);
}

TEST_CASE("derived provider: without publish_ahead the next epoch is fetched "
          "in the last minute") {
  Fleet fleet(derived_keystore(1h, 0s), k_noon + 30min);
  fleet.open(3);
  const Timestamp end = k_noon + 30min + 6h;
  while (fleet.now() < end) {
    fleet.advance(5s);
    CHECK(fleet.encrypting() == fleet.id_of(fleet.epoch(fleet.now())));
  }
  for (const auto& call : fleet.oracle->snapshot()) {
    if (call.epoch <= fleet.epoch(k_noon)) {
      continue;
    }
    const auto start = epoch_start(fleet.ks.policy, call.epoch);
    CAPTURE(call.epoch);
    CHECK(call.at >= start - 60s);
    CHECK(call.at < start - 30s + 5s);
  }
  for (const auto& [n, count] : fleet.oracle->successes()) {
    CHECK(count == 1);
  }
}

TEST_CASE("derived provider: require_first_fetch returns the oracle's error") {
  Fleet fleet(derived_keystore());
  fleet.oracle->set_failing(true);
  auto o = fleet.options();
  o.require_first_fetch = true;
  auto opened = fleet.try_open(std::move(o));
  REQUIRE_FALSE(opened.ok());
  CHECK(opened.error().code == Errc::oracle);
  CHECK(opened.error().message.starts_with("fake oracle (test): "));
  CHECK(fleet.oracle->snapshot().size() == 1);
}

TEST_CASE("derived provider: open refuses what is not a derived keystore") {
  Fleet fleet(derived_keystore());
  Keystore plain = keystore_at(k_noon);
  auto opened = DerivedProvider::open(std::move(plain), std::make_unique<FakeOracle>());
  REQUIRE_FALSE(opened.ok());
  CHECK(opened.error().code == Errc::invalid_argument);
  auto no_oracle = DerivedProvider::open(fleet.ks.clone(), nullptr);
  REQUIRE_FALSE(no_oracle.ok());
  CHECK(no_oracle.error().code == Errc::invalid_argument);
  auto o = fleet.options();
  o.retry_first = 0ms;
  auto bad_retry = fleet.try_open(std::move(o));
  REQUIRE_FALSE(bad_retry.ok());
  CHECK(contains(bad_retry.error().message, "retry_first"));
}

TEST_CASE("derived provider: starting in an outage serves nothing, backs off, "
          "and recovers") {
  Fleet fleet(derived_keystore(1h, 10min), k_noon + 30min);
  fleet.oracle->set_failing(true);
  fleet.open();
  auto status = fleet.provider->status();
  CHECK_FALSE(status.oracle_ok);
  CHECK(status.message.starts_with("fake oracle (test): "));
  CHECK_FALSE(status.first_epoch);
  CHECK_FALSE(status.runs_out_at);
  CHECK_FALSE(fleet.encrypting());
  CHECK(fleet.logged("oracle failing") == 1);
  CHECK(fleet.logged("no key encrypts: the oracle has been failing since "
                     "2026-11-28T12:30:00Z") == 1);

  // Retries 1, 2, 4, 8, 8, ... s apart (+-20%, rounded up), one epoch at a
  // time.
  for (int i = 0; i < 60; ++i) {
    fleet.advance(1s);
  }
  const auto calls = fleet.oracle->snapshot();
  REQUIRE(calls.size() >= 6);
  for (std::size_t i = 1; i < calls.size(); ++i) {
    CAPTURE(i);
    const double nominal = std::min(1 << std::min<std::size_t>(i - 1, 3), 8);
    const auto gap = (calls[i].at - calls[i - 1].at).count();
    CHECK(gap >= static_cast<std::int64_t>(std::ceil(0.8 * nominal)));
    CHECK(gap <= static_cast<std::int64_t>(std::ceil(1.2 * nominal)));
    CHECK_FALSE(calls[i].ok);
  }
  CHECK(fleet.logged("oracle failing") == 1);
  CHECK(fleet.logged("no key encrypts") == 1);

  fleet.oracle->set_failing(false);
  for (int i = 0; i < 12 && !fleet.encrypting(); ++i) {
    fleet.advance(1s);
  }
  CHECK(fleet.encrypting() == fleet.id_of(fleet.epoch(k_noon)));
  status = fleet.provider->status();
  CHECK(status.oracle_ok);
  CHECK(status.message.empty());
  CHECK(status.first_epoch == fleet.epoch(k_noon) - 2);
  CHECK(status.last_epoch == fleet.epoch(k_noon));
  CHECK(status.oracle_failures == calls.size());
  CHECK(fleet.logged("oracle recovered") == 1);
  CHECK(fleet.logged("oracle failing") == 1);
  for (const auto& [n, count] : fleet.oracle->successes()) {
    CHECK(count == 1);
  }
}

TEST_CASE("derived provider: an outage serves held keys only within their "
          "windows, warns before and when it runs out") {
  Fleet fleet(derived_keystore(1h, 10min), k_noon + 30min);
  fleet.open();
  const Epoch noon = fleet.epoch(k_noon);
  fleet.set(k_noon + 40min);
  fleet.oracle->set_failing(true);
  while (fleet.now() < k_noon + 59min) {
    fleet.advance(1min);
    CHECK(fleet.encrypting() == fleet.id_of(noon));
  }
  INFO(fleet.all_logs());
  CHECK(fleet.logged("oracle failing") == 1);
  CHECK(fleet.logged("about to run out of keys: epoch " + std::to_string(noon + 1) +
                     " is not fetched and the newest key stops encrypting at "
                     "2026-11-28T13:00:00Z") == 1);
  CHECK(fleet.logged("no key encrypts") == 0);
  CHECK_FALSE(fleet.provider->status().oracle_ok);

  // 13:00: the noon key stops encrypting; it never encrypts longer.
  fleet.set(k_noon + 1h);
  CHECK_FALSE(fleet.encrypting());
  auto old = fleet.provider->decryption_key("a.example", view_of(fleet.id_of(noon)));
  REQUIRE(old);
  CHECK(old->renew);
  CHECK(fleet.logged("no key encrypts: the oracle has been failing since "
                     "2026-11-28T12:5") == 1);
  // Epoch noon-2 stopped decrypting at 13:00 and is gone.
  CHECK(fleet.provider->status().first_epoch == noon - 1);

  while (fleet.now() < k_noon + 2h) {
    fleet.advance(1min);
  }
  CHECK(fleet.logged("oracle failing") == 1);
  CHECK(fleet.logged("about to run out") == 1);
  CHECK(fleet.logged("no key encrypts") == 1);

  fleet.oracle->set_failing(false);
  fleet.advance(1min);
  for (int i = 0; i < 10 && !fleet.encrypting(); ++i) {
    fleet.advance(1s);
  }
  CHECK(fleet.encrypting() == fleet.id_of(noon + 2));
  CHECK(fleet.logged("oracle recovered") == 1);
  // 13 still decrypts tickets others issued; it is fetched too.
  CHECK(fleet.provider->decryption_key("a.example", view_of(fleet.id_of(noon + 1))));
  for (const auto& [n, count] : fleet.oracle->successes()) {
    CAPTURE(n);
    CHECK(count <= 1);
  }
  CHECK(fleet.oracle->successes().at(noon + 1) == 1);
}

TEST_CASE("derived provider: with a longer encrypt_for an outage keeps "
          "encrypting until the newest key's encrypt_until") {
  Fleet fleet(derived_keystore(1h, 10min, 2h, 2h), k_noon + 30min);
  fleet.open();
  const Epoch noon = fleet.epoch(k_noon);
  fleet.oracle->set_failing(true);
  fleet.set(k_noon + 1h + 30min);
  CHECK(fleet.encrypting() == fleet.id_of(noon));
  CHECK(fleet.provider->status().runs_out_at == k_noon + 2h);
  CHECK(fleet.logged("about to run out") == 0);
  fleet.set(k_noon + 1h + 55min);
  CHECK(fleet.logged("about to run out") == 1);
  fleet.set(k_noon + 2h);
  CHECK_FALSE(fleet.encrypting());
  CHECK(fleet.logged("no key encrypts") == 1);
}

TEST_CASE("derived provider: a MAC that repeats another epoch's is refused") {
  Fleet fleet(derived_keystore(1h, 10min), k_noon + 30min);
  fleet.oracle->constant = true;
  fleet.open();
  auto status = fleet.provider->status();
  CHECK(status.first_epoch == fleet.epoch(k_noon));
  CHECK(status.last_epoch == fleet.epoch(k_noon));
  CHECK(status.epochs == 1);
  CHECK_FALSE(status.oracle_ok);
  CHECK(status.message.starts_with("fake oracle (test): the key of epoch "));
  CHECK(contains(status.message, "unusable"));
  CHECK(status.oracle_failures >= 1);
  CHECK(fleet.encrypting() == fleet.id_of(fleet.epoch(k_noon)));
}

TEST_CASE("derived provider: on_status follows every oracle call") {
  Fleet fleet(derived_keystore(1h, 10min), k_noon + 30min);
  fleet.open();
  fleet.oracle->set_failing(true);
  fleet.set(k_noon + 59min);
  fleet.oracle->set_failing(false);
  fleet.advance(1min);
  for (int i = 0; i < 10 && fleet.oracle->snapshot().back().ok == false; ++i) {
    fleet.advance(1s);
  }
  std::lock_guard lock(fleet.mutex);
  const auto calls = fleet.oracle->snapshot();
  REQUIRE(fleet.statuses.size() == calls.size());
  for (std::size_t i = 0; i < calls.size(); ++i) {
    CAPTURE(i);
    CHECK(fleet.statuses[i].oracle_ok == calls[i].ok);
    CHECK(fleet.statuses[i].oracle_calls == i + 1);
  }
  CHECK(fleet.statuses.back().oracle_failures >= 1);
}

TEST_CASE("derived provider: destruction stops the thread promptly") {
  // The system clock: the thread sleeps until the next fetch moment, which
  // is up to an hour away.
  DerivedProviderOptions o;
  auto opened = DerivedProvider::open(derived_keystore(1h, 10min),
                                      std::make_unique<FakeOracle>(), std::move(o));
  REQUIRE(opened.ok());
  auto provider = std::move(opened).value();
  CHECK(provider->encryption_key(std::nullopt));
  std::this_thread::sleep_for(50ms);
  const auto start = std::chrono::steady_clock::now();
  provider.reset();
  CHECK(std::chrono::steady_clock::now() - start < 1s);
}

TEST_CASE("derived provider: lookups run while the thread fetches and prunes") {
  Fleet fleet(derived_keystore(1h, 10min), k_noon + 30min);
  fleet.open();
  std::atomic<bool> done{false};
  std::atomic<std::size_t> misses{0};
  std::atomic<std::size_t> lookups{0};
  std::vector<std::thread> servers;
  for (int i = 0; i < 3; ++i) {
    servers.emplace_back([&, i] {
      const std::string name = "host" + std::to_string(i) + ".example";
      while (!done.load()) {
        // A lookup thread may be descheduled while the test moves the
        // clock on by hours: a key that encrypted at `before` decrypts
        // until at least `before` + decrypt_for, and is only required to
        // until then.
        const auto before = fleet.now();
        auto key = fleet.provider->encryption_key(name);
        if (!key) {
          ++misses;
          continue;
        }
        const bool decrypted =
          fleet.provider->decryption_key(name, view_of(key->id)).has_value();
        if (!decrypted && fleet.now() < before + fleet.ks.policy.decrypt_for) {
          ++misses;
        }
        ++lookups;
      }
    });
  }
  while (fleet.now() < k_noon + 8h) {
    fleet.advance(1min);
  }
  done = true;
  for (auto& server : servers) {
    server.join();
  }
  CHECK(misses.load() == 0);
  CHECK(lookups.load() > 0);
  for (const auto& [n, count] : fleet.oracle->successes()) {
    CHECK(count == 1);
  }
}

TEST_CASE("derived provider: OpenSSL tickets change key with the epoch and "
          "still resume") {
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    CAPTURE(version);
    Fleet fleet(derived_keystore(1h, 10min), k_noon + 30min);
    fleet.open();
    std::shared_ptr<DerivedProvider> provider = std::move(fleet.provider);
    auto ctx = server_context(version);
    REQUIRE(openssl::use_ticket_provider(ctx.get(), provider).ok());
    auto client = client_context(version);
    const Epoch noon = fleet.epoch(k_noon);

    auto first = handshake(ctx.get(), client.get(), "a.example");
    CHECK_FALSE(first.reused);
    CHECK(ticket_key_name(first.session.get()) == fleet.id_of(noon).hex());
    auto again = handshake(ctx.get(), client.get(), "a.example", first.session.get());
    CHECK(again.reused);

    // Into the next epoch; the fetching thread has its key already.
    fleet.clock.set(k_noon + 1h + 5min);
    detail::DerivedProviderTesting::run_pass(*provider);
    auto fresh = handshake(ctx.get(), client.get(), "a.example");
    CHECK_FALSE(fresh.reused);
    CHECK(ticket_key_name(fresh.session.get()) == fleet.id_of(noon + 1).hex());
    auto resumed = handshake(ctx.get(), client.get(), "a.example", first.session.get());
    CHECK(resumed.reused);
    // Renewed: the new ticket is under the new epoch's key.
    CHECK(ticket_key_name(resumed.session.get()) == fleet.id_of(noon + 1).hex());
    CHECK_FALSE(handshake(ctx.get(), client.get(), "b.example", first.session.get()).reused);
  }
}

TEST_CASE("derived schedule: fetch window, moment, retry delay and order") {
  auto ks = derived_keystore(1h, 10min);
  CHECK(detail::fetch_window(ks.policy) == 10min);
  CHECK(detail::run_out_warning(ks.policy) == 10min);
  const Timestamp start = epoch_start(ks.policy, 100);
  std::set<Timestamp> moments;
  for (std::uint64_t r = 0; r < 2000; ++r) {
    const auto at = detail::fetch_moment(ks.policy, 100, r * 7919);
    CHECK(at >= start - 10min);
    CHECK(at < start - 5min);
    moments.insert(at);
  }
  CHECK(moments.size() == 300);

  ks.policy.publish_ahead = 0s;
  CHECK(detail::fetch_window(ks.policy) == 60s);
  CHECK(detail::run_out_warning(ks.policy) == 6min);
  ks.policy.rotate_every = 5s;
  CHECK(detail::fetch_window(ks.policy) == 1s);
  CHECK(detail::fetch_moment(ks.policy, 100, 12345) == epoch_start(ks.policy, 100) - 1s);

  using detail::retry_delay;
  for (std::uint64_t r = 0; r < 400; r += 7) {
    CHECK(retry_delay(1000ms, 300000ms, 1, r) >= 1s);
    CHECK(retry_delay(1000ms, 300000ms, 1, r) <= 2s);
    CHECK(retry_delay(1000ms, 300000ms, 4, r) >= 7s);
    CHECK(retry_delay(1000ms, 300000ms, 4, r) <= 10s);
    CHECK(retry_delay(1000ms, 300000ms, 40, r) >= 240s);
    CHECK(retry_delay(1000ms, 300000ms, 40, r) <= 360s);
  }
  CHECK(retry_delay(1000ms, 300000ms, 1, 0) == 1s);   // 800 ms, rounded up
  CHECK(retry_delay(10000ms, 300000ms, 1, 0) == 8s);
  CHECK(retry_delay(10000ms, 300000ms, 1, 399) == 12s);
  CHECK(retry_delay(1ms, 1ms, 1000000, 0) == 1s);

  CHECK(detail::fetch_order({8, 9, 10, 11, 12, 13}, 11) ==
        std::vector<Epoch>{11, 10, 9, 8, 12, 13});
  CHECK(detail::fetch_order({5}, 11) == std::vector<Epoch>{5});
}

TEST_CASE("formats: open_derived_provider checks the file, open_provider "
          "picks the kind") {
  Fleet fleet(derived_keystore(1h, 10min), k_noon + 30min);
  save("derived.json", fleet.ks);
  save("plain.json", keystore_at(k_noon));

  REQUIRE(::chmod("derived.json", 0644) == 0);
  auto insecure = formats::open_derived_provider(
    "derived.json", std::make_unique<FakeOracle>(), fleet.options());
  REQUIRE_FALSE(insecure.ok());
  CHECK(insecure.error().code == Errc::permission);
  CHECK(contains(insecure.error().message, "derived.json"));
  CHECK(contains(insecure.error().message, "require_private"));
  auto lax = fleet.options();
  lax.require_private = false;
  CHECK(formats::open_derived_provider("derived.json", std::make_unique<FakeOracle>(),
                                       std::move(lax))
          .ok());
  REQUIRE(::chmod("derived.json", 0600) == 0);

  auto derived = formats::open_derived_provider(
    "derived.json", std::make_unique<FakeOracle>(fleet.oracle), fleet.options());
  REQUIRE_MESSAGE(derived.ok(), (derived.ok() ? "" : derived.error().message));
  CHECK((*derived)->encryption_key("a.example")->id == fleet.id_of(fleet.epoch(k_noon)));

  auto plain = formats::open_derived_provider("plain.json", std::make_unique<FakeOracle>());
  REQUIRE_FALSE(plain.ok());
  CHECK(plain.error().code == Errc::invalid_argument);
  CHECK(contains(plain.error().message, "plain.json"));

  // By content: the file's own oracle is the placeholder command `false`,
  // so the derived provider starts in an outage, naming it.
  formats::ProviderOptions options;
  options.file.watch = WatchMode::manual;
  // Both kinds on the test's clock: plain.json's keys encrypt around k_noon.
  options.file.clock = fleet.clock.function();
  options.derived.clock = fleet.clock.function();
  auto any_derived = formats::open_provider("derived.json", options);
  REQUIRE_MESSAGE(any_derived.ok(), (any_derived.ok() ? "" : any_derived.error().message));
  REQUIRE(any_derived->index() == 1);
  const auto status = std::get<1>(*any_derived)->status();
  CHECK_FALSE(status.oracle_ok);
  CHECK(status.message.starts_with("command oracle (false)"));

  auto any_plain = formats::open_provider("plain.json", options);
  REQUIRE(any_plain.ok());
  CHECK(any_plain->index() == 0);
  CHECK(formats::share_provider(std::move(*any_plain))->encryption_key(std::nullopt));

  auto missing = formats::open_provider("missing.json", options);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == Errc::not_found);
}
