// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stek/derived_keystore.hpp>
#include <stek/file_provider.hpp>
#include <stek/keystore.hpp>
#include <stek/oracle.hpp>
#include <stek/provider.hpp>
#include <stek/result.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace stek {

// What a DerivedProvider holds and how its oracle is doing.
struct DerivedProviderStatus {
  // The epochs whose keys are in memory, oldest and newest; none before the
  // first successful oracle call.
  std::optional<Epoch> first_epoch;
  std::optional<Epoch> last_epoch;
  // How many keys are in memory: fewer than last - first + 1 while the
  // oracle fails for an epoch between them.
  std::size_t epochs = 0;
  // When the newest key held stops encrypting: past this, without another
  // successful oracle call, the server issues no tickets.
  std::optional<Timestamp> runs_out_at;
  // False while the oracle is failing; keys already held are still served.
  bool oracle_ok = true;
  // The last oracle failure, naming the oracle; empty if oracle_ok.
  std::string message;
  // Oracle calls since open, good or bad, and how many of them failed. A
  // MAC the provider refuses (one that repeats another epoch's) counts as
  // a failure.
  std::uint64_t oracle_calls = 0;
  std::uint64_t oracle_failures = 0;
  // When the last oracle call, good or bad, returned (wall clock).
  std::chrono::system_clock::time_point checked_at{};
};

struct DerivedProviderOptions {
  // The time lookups and the schedule use; the system clock unless a test
  // sets one. Called on every lookup: cheap and non-blocking. The schedule
  // keeps whole seconds of this clock, and the fetching thread re-reads it
  // at least every 250 ms of real time when it is set (every minute for
  // the system clock), so a clock a test moves is followed.
  std::function<Timestamp()> clock;
  // Called after every oracle call, good or bad: from the thread that
  // called open() for the first one, from the fetching thread after that.
  std::function<void(const DerivedProviderStatus&)> on_status;
  // Called from the same threads with one line (no secret) when an outage
  // starts ("oracle failing: ...") and ends ("oracle recovered ..."), when
  // the provider is about to run out of keys (the next epoch's fetch is
  // overdue and the newest key stops encrypting within publish_ahead, or
  // within a tenth of rotate_every if publish_ahead is 0), and when it has
  // ("no key encrypts: the oracle has been failing since ...").
  std::function<void(std::string_view)> on_log;
  // Upper bound on cached per-name secrets (see FileProviderOptions).
  std::size_t derived_cache_entries = 1024;
  // Retry delays after a failed oracle call: doubling from the first to
  // the cap, each with +-20% jitter, in whole seconds of `clock` (at least
  // one).
  std::chrono::milliseconds retry_first{1000};
  std::chrono::milliseconds retry_cap{std::chrono::minutes(5)};
  // Seeds the random moment in the publish-ahead window at which the next
  // epoch is fetched, and the retry jitter; 0 takes one from the system.
  std::uint64_t jitter_seed = 0;
  // Fail open() with the oracle's error if the current epoch cannot be
  // fetched, instead of starting in an outage that serves nothing.
  bool require_first_fetch = false;
  // For stek::formats::open_derived_provider, which reads the file: refuse
  // a keystore that group or others may read, as FileProvider does. The
  // file holds no key, but it names the oracle (its module or command and
  // where the PIN comes from).
  bool require_private = true;
};

namespace detail {
struct DerivedProviderTesting;
}

// A Provider for a derived keystore (stekctl-keystore(5), DERIVED
// KEYSTORES): it computes each epoch's STEK through the oracle, keeps keys
// in memory only, and fetches epoch n+1 at a random moment within the first
// half of its publish-ahead window, so a fleet does not call the oracle at
// once and the second half is left for retries. It calls the oracle
// successfully at most once per epoch per process. Through an oracle
// outage it serves the epochs it has (decrypting until their decrypt_until,
// encrypting until the newest one's encrypt_until, never longer), retries
// with backoff, and reports the outage in status(). Lookups take no lock
// and do not allocate, as with FileProvider.
class DerivedProvider final : public Provider {
public:
  // Start serving `keystore` (a derived one: policy and derivation, no
  // keys) through `oracle`. The current epoch's key is fetched before open
  // returns, so service starts after one oracle call; the other epochs
  // held now (those still decrypting, and any already published) are
  // fetched by the fetching thread at once after that. If the oracle fails
  // for the current epoch, open still succeeds (servers start in an outage
  // and recover), serving nothing, with status().oracle_ok false, unless
  // options.require_first_fetch is set: then its error is returned.
  static Result<std::unique_ptr<DerivedProvider>>
  open(Keystore keystore,
       std::unique_ptr<MacOracle> oracle,
       DerivedProviderOptions options = {});

  // Stop the fetching thread and wipe the keys. Waits for an oracle call
  // in progress to return (the command oracle's timeout bounds it).
  ~DerivedProvider() override;
  DerivedProvider(const DerivedProvider&) = delete;
  DerivedProvider& operator=(const DerivedProvider&) = delete;

  std::optional<TicketKey>
  encryption_key(std::optional<std::string_view> sni) override;
  std::optional<TicketKey>
  decryption_key(std::optional<std::string_view> sni, KeyIdView id) override;

  DerivedProviderStatus status() const;

  class Impl;

private:
  friend struct detail::DerivedProviderTesting;
  explicit DerivedProvider(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

} // namespace stek
