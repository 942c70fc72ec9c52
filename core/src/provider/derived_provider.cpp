// SPDX-License-Identifier: Apache-2.0
#include <stek/derived_provider.hpp>

#include "coarse_clock.hpp"
#include "derived_provider_testing.hpp"
#include "derived_schedule.hpp"
#include "snapshot.hpp"
#include "snapshot_cell.hpp"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <thread>

namespace stek {
namespace {

// How long the fetching thread sleeps at most before it reads the clock
// again: a clock a test moves by hand is followed within a quarter second,
// the system clock within a minute of a jump (suspend, NTP step).
constexpr auto k_custom_clock_poll = std::chrono::milliseconds(250);
constexpr auto k_system_clock_poll = std::chrono::minutes(1);
// When nothing at all is scheduled (it always is; a safety net).
constexpr Duration k_idle = std::chrono::hours(1);

Timestamp decrypt_until(const Policy& policy, Epoch n) {
  return epoch_start(policy, n) + policy.encrypt_for + policy.decrypt_for;
}

std::string epochs_text(const std::map<Epoch, Key>& held) {
  if (held.empty()) {
    return "no epoch";
  }
  const Epoch first = held.begin()->first;
  const Epoch last = held.rbegin()->first;
  return first == last ? "epoch " + std::to_string(first)
                       : "epochs " + std::to_string(first) + " to " +
                           std::to_string(last);
}

} // namespace

class DerivedProvider::Impl {
public:
  Impl(Keystore keystore,
       std::unique_ptr<MacOracle> oracle,
       DerivedProviderOptions options,
       std::unique_ptr<detail::Snapshot> empty)
    : m_policy(keystore.policy),
      m_derivation(std::move(*keystore.derivation)),
      m_oracle(std::move(oracle)),
      m_options(std::move(options)),
      m_random(m_options.jitter_seed != 0 ? m_options.jitter_seed
                                          : std::random_device{}()),
      m_cell(std::move(empty)) {}

  ~Impl() { stop(); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  Timestamp now() const {
    return m_options.clock ? m_options.clock() : detail::coarse_now();
  }

  // Fetch the current epoch on the caller's thread, then hand the rest to
  // the fetching thread. With require_first_fetch, a failure is returned
  // and no thread is started.
  Result<void> start() {
    const Timestamp t = now();
    const auto needed = epochs_needed_at(m_policy, t);
    for (const Epoch n : needed) {
      m_due.emplace(n, t);
    }
    // needed always holds the current epoch: decrypt_for is positive.
    m_planned_through = needed.back();
    m_planned_moment = t;
    auto first = fetch(epoch_at(m_policy, t));
    if (!first && m_options.require_first_fetch) {
      return first;
    }
    m_thread = std::thread([this] { run(); });
    return {};
  }

  void stop() {
    {
      std::lock_guard lock(m_wake_mutex);
      m_stop = true;
    }
    m_wake.notify_all();
    m_passed.notify_all();
    if (m_thread.joinable()) {
      m_thread.join();
    }
  }

  // The test hook: see DerivedProviderTesting.
  void run_pass_and_wait() {
    std::unique_lock lock(m_wake_mutex);
    const std::uint64_t target = ++m_requested;
    m_wake.notify_all();
    m_passed.wait(lock, [&] { return m_done >= target || m_stop; });
  }

  DerivedProviderStatus status() const {
    std::lock_guard lock(m_status_mutex);
    return m_status;
  }

  std::optional<TicketKey> encryption_key(std::optional<std::string_view> sni) {
    const auto t = now();
    const auto snapshot = m_cell.read();
    // Built in place and returned by NRVO: moving a TicketKey copies and
    // wipes its secrets.
    std::optional<TicketKey> key(std::in_place);
    if (!snapshot->encryption_key(t, sni, *key)) {
      key.reset();
    }
    return key;
  }

  std::optional<TicketKey> decryption_key(std::optional<std::string_view> sni,
                                          KeyIdView id) {
    const auto t = now();
    const auto snapshot = m_cell.read();
    std::optional<TicketKey> key(std::in_place);
    if (!snapshot->decryption_key(t, sni, id, *key)) {
      key.reset();
    }
    return key;
  }

private:
  // The fetching thread: a pass whenever something is due, the clock may
  // have moved, or a test asks; until stop().
  void run() {
    std::unique_lock lock(m_wake_mutex);
    while (!m_stop) {
      const std::uint64_t requested = m_requested;
      lock.unlock();
      pass();
      const Timestamp t = now();
      const Timestamp wake = next_wake(t);
      lock.lock();
      m_done = requested;
      m_passed.notify_all();
      const auto cap = m_options.clock
                         ? std::chrono::duration_cast<std::chrono::milliseconds>(
                             k_custom_clock_poll)
                         : std::chrono::duration_cast<std::chrono::milliseconds>(
                             k_system_clock_poll);
      const auto wait = std::min(
        std::chrono::duration_cast<std::chrono::milliseconds>(wake - t), cap);
      m_wake.wait_for(lock, wait,
                      [&] { return m_stop || m_requested != requested; });
    }
  }

  bool stopping() {
    std::lock_guard lock(m_wake_mutex);
    return m_stop;
  }

  // Everything the schedule calls for at the clock's time now.
  void pass() {
    const Timestamp t = now();
    plan(t);
    prune(t);
    if (t >= m_retry_at) {
      std::vector<Epoch> due;
      for (const auto& [n, at] : m_due) {
        if (at <= t) {
          due.push_back(n);
        }
      }
      for (const Epoch n : detail::fetch_order(std::move(due), epoch_at(m_policy, t))) {
        // A failure stops the pass: the oracle is likely down, and the
        // retry delay applies to every epoch alike.
        if (stopping() || !fetch(n)) {
          break;
        }
      }
    }
    warn(now());
  }

  // Give every epoch whose fetch moment came a place in m_due, and pick the
  // moment of the next one. Planning only moves forward, so an epoch is
  // never wanted twice.
  void plan(Timestamp t) {
    // After a jump (suspend), skip the epochs that died meanwhile.
    const Epoch first_alive = epochs_needed_at(m_policy, t).front();
    if (m_planned_through < first_alive - 1) {
      m_planned_through = first_alive - 1;
    }
    while (m_planned_moment <= t) {
      ++m_planned_through;
      m_planned_moment =
        detail::fetch_moment(m_policy, m_planned_through, m_random());
      m_due.emplace(m_planned_through, m_planned_moment);
    }
  }

  // Forget the keys and wants of epochs that no longer decrypt.
  void prune(Timestamp t) {
    std::erase_if(m_due, [&](const auto& entry) {
      return decrypt_until(m_policy, entry.first) <= t;
    });
    const auto erased = std::erase_if(m_held, [&](const auto& entry) {
      return entry.second.decrypt_until <= t;
    });
    if (erased != 0) {
      // Nothing can fail for keys already built once.
      (void)publish();
    }
  }

  // One oracle call for epoch `n`; record it, and serve the key if good.
  Result<void> fetch(Epoch n) {
    auto adopted = adopt(n);
    const Timestamp t = now();
    DerivedProviderStatus status;
    {
      std::lock_guard lock(m_status_mutex);
      ++m_status.oracle_calls;
      m_status.checked_at = std::chrono::system_clock::now();
      if (adopted) {
        m_status.oracle_ok = true;
        m_status.message.clear();
      } else {
        ++m_status.oracle_failures;
        m_status.oracle_ok = false;
        m_status.message = adopted.error().message;
      }
      status = m_status;
    }
    if (m_options.on_status) {
      m_options.on_status(status);
    }
    if (adopted) {
      m_due.erase(n);
      m_failures = 0;
      m_retry_at = Timestamp::min();
      if (m_failing_since) {
        log("oracle recovered: it had been failing since " +
            format_time(*m_failing_since) + "; serving " +
            epochs_text(m_held));
        m_failing_since.reset();
        m_warned_run_out_for.reset();
        m_warned_ran_out = false;
      }
      return {};
    }
    ++m_failures;
    m_retry_at = t + detail::retry_delay(m_options.retry_first,
                                         m_options.retry_cap, m_failures,
                                         m_random());
    if (!m_failing_since) {
      m_failing_since = t;
      log("oracle failing, serving " + epochs_text(m_held) + ": " +
          adopted.error().message);
    }
    return adopted;
  }

  // Call the oracle for epoch `n` and publish a snapshot with its key.
  Result<void> adopt(Epoch n) {
    auto derived = derive_epoch_key(m_policy, m_derivation, n, *m_oracle);
    if (!derived) {
      return named(derived.error());
    }
    m_held.emplace(n, std::move(*derived));
    auto published = publish();
    if (!published) {
      // A MAC that repeats another epoch's (an oracle that ignores its
      // input) or is all zero: never serve it.
      m_held.erase(n);
      return fail(Errc::oracle, m_oracle->describe() + ": the key of epoch " +
                                  std::to_string(n) + " is unusable: " +
                                  published.error().message);
    }
    return {};
  }

  // Oracle errors start with the oracle's description; make sure of it.
  Error named(Error error) const {
    const std::string who = m_oracle->describe();
    if (!error.message.starts_with(who)) {
      error.message = who + ": " + error.message;
    }
    error.code = Errc::oracle;
    return error;
  }

  // Build a snapshot of the keys held and make lookups use it.
  Result<void> publish() {
    Keystore keystore;
    keystore.policy = m_policy;
    keystore.keys.reserve(m_held.size());
    for (const auto& [n, key] : m_held) {
      keystore.keys.push_back(key.clone());
    }
    STEK_TRY(keystore.validate());
    std::string notes;
    STEK_TRY_ASSIGN(auto snapshot,
                    detail::Snapshot::build(std::move(keystore),
                                            m_options.derived_cache_entries,
                                            notes));
    m_cell.publish(std::move(snapshot));
    std::lock_guard lock(m_status_mutex);
    m_status.epochs = m_held.size();
    if (m_held.empty()) {
      m_status.first_epoch.reset();
      m_status.last_epoch.reset();
      m_status.runs_out_at.reset();
    } else {
      m_status.first_epoch = m_held.begin()->first;
      m_status.last_epoch = m_held.rbegin()->first;
      m_status.runs_out_at = m_held.rbegin()->second.encrypt_until;
    }
    return {};
  }

  std::optional<Timestamp> runs_out_at() const {
    if (m_held.empty()) {
      return std::nullopt;
    }
    return m_held.rbegin()->second.encrypt_until;
  }

  // During an outage: warn once the provider is about to run out of keys,
  // and once it has.
  void warn(Timestamp t) {
    if (!m_failing_since) {
      return;
    }
    const auto runs_out = runs_out_at();
    if (!runs_out || t >= *runs_out) {
      if (!m_warned_ran_out) {
        m_warned_ran_out = true;
        log("no key encrypts: the oracle has been failing since " +
            format_time(*m_failing_since) + "; no tickets are issued until "
            "it recovers (" + last_message() + ")");
      }
      return;
    }
    const Epoch next = m_held.rbegin()->first + 1;
    const auto want = m_due.find(next);
    const bool overdue = want != m_due.end() && want->second <= t;
    if (overdue && *runs_out - t <= detail::run_out_warning(m_policy) &&
        m_warned_run_out_for != runs_out) {
      m_warned_run_out_for = runs_out;
      log("about to run out of keys: epoch " + std::to_string(next) +
          " is not fetched and the newest key stops encrypting at " +
          format_time(*runs_out) + " (" + last_message() + ")");
    }
  }

  std::string last_message() const {
    std::lock_guard lock(m_status_mutex);
    return m_status.message;
  }

  // The next moment a pass has something to do.
  Timestamp next_wake(Timestamp t) const {
    Timestamp wake = t + k_idle;
    const auto consider = [&](Timestamp at) {
      if (at > t) {
        wake = std::min(wake, at);
      }
    };
    consider(m_planned_moment);
    for (const auto& [n, at] : m_due) {
      consider(std::max(at, m_retry_at));
      consider(decrypt_until(m_policy, n));
    }
    for (const auto& [n, key] : m_held) {
      consider(key.decrypt_until);
    }
    if (m_failing_since) {
      if (const auto runs_out = runs_out_at()) {
        consider(*runs_out - detail::run_out_warning(m_policy));
        consider(*runs_out);
      }
    }
    return wake;
  }

  void log(const std::string& line) const {
    if (m_options.on_log) {
      m_options.on_log(line);
    }
  }

  // Fixed at open.
  const Policy m_policy;
  const Derivation m_derivation;
  const std::unique_ptr<MacOracle> m_oracle;
  const DerivedProviderOptions m_options;

  // The schedule: used by open()'s thread, then only by the fetching
  // thread (started after), so it needs no lock.
  std::map<Epoch, Key> m_held;     // keys in memory, by epoch
  std::map<Epoch, Timestamp> m_due; // wanted, not held: earliest call
  Epoch m_planned_through = 0;      // the newest epoch given a moment
  Timestamp m_planned_moment{};     // its fetch moment
  std::mt19937_64 m_random;
  std::uint64_t m_failures = 0; // in a row
  Timestamp m_retry_at = Timestamp::min();
  std::optional<Timestamp> m_failing_since;
  std::optional<Timestamp> m_warned_run_out_for;
  bool m_warned_ran_out = false;

  // Read by lookups without a lock; published only by the schedule's owner.
  detail::SnapshotCell<detail::Snapshot> m_cell;

  mutable std::mutex m_status_mutex;
  DerivedProviderStatus m_status;

  std::mutex m_wake_mutex; // guards the four below
  std::condition_variable m_wake;
  std::condition_variable m_passed;
  bool m_stop = false;
  std::uint64_t m_requested = 0; // passes asked for by tests
  std::uint64_t m_done = 0;      // the last request a finished pass covered
  std::thread m_thread;
};

Result<std::unique_ptr<DerivedProvider>>
DerivedProvider::open(Keystore keystore,
                      std::unique_ptr<MacOracle> oracle,
                      DerivedProviderOptions options) {
  STEK_ENSURE(oracle != nullptr, Errc::invalid_argument, "no oracle given");
  STEK_ENSURE(keystore.is_derived(), Errc::invalid_argument,
              "not a derived keystore (it has no \"derived\" section); "
              "serve it with a FileProvider");
  STEK_TRY(keystore.validate());
  STEK_ENSURE(options.retry_first.count() > 0 &&
                options.retry_cap >= options.retry_first,
              Errc::invalid_argument,
              "retry_first must be positive and at most retry_cap");
  Keystore empty;
  empty.policy = keystore.policy;
  std::string notes;
  STEK_TRY_ASSIGN(auto first,
                  detail::Snapshot::build(std::move(empty),
                                          options.derived_cache_entries, notes));
  auto impl = std::make_unique<Impl>(std::move(keystore), std::move(oracle),
                                     std::move(options), std::move(first));
  STEK_TRY(impl->start());
  return std::unique_ptr<DerivedProvider>(new DerivedProvider(std::move(impl)));
}

DerivedProvider::DerivedProvider(std::unique_ptr<Impl> impl)
  : m_impl(std::move(impl)) {}

DerivedProvider::~DerivedProvider() { m_impl->stop(); }

std::optional<TicketKey>
DerivedProvider::encryption_key(std::optional<std::string_view> sni) {
  return m_impl->encryption_key(sni);
}

std::optional<TicketKey>
DerivedProvider::decryption_key(std::optional<std::string_view> sni,
                                KeyIdView id) {
  return m_impl->decryption_key(sni, id);
}

DerivedProviderStatus DerivedProvider::status() const {
  return m_impl->status();
}

void detail::DerivedProviderTesting::run_pass(DerivedProvider& provider) {
  provider.m_impl->run_pass_and_wait();
}

} // namespace stek
