// SPDX-License-Identifier: Apache-2.0
// Turns each ticket sighting into a report: its format, its key id, and with
// a keystore the matching key, that key's state when the ticket was seen and
// now, and the decoded session. Reports hold no secret.
#pragma once
#include <stek/inspect/sighting.hpp>
#include <stek/inspect/ticket_decode.hpp>
#include <stek/keystore.hpp>

#include <functional>
#include <map>
#include <set>
#include <stek/time.hpp>
#include <optional>
#include <string>
#include <vector>

namespace stek::inspect {

struct KeyReport {
  OpenResult::Status status = OpenResult::Status::no_key;
  std::optional<KeyId> id; // the keystore key that named or verified it
  // Its state at the capture time of the ticket (captures only) and now.
  std::optional<KeyState> state_at_capture;
  std::optional<KeyState> state_now;
  std::string binding;
  std::optional<std::string> origin;
  // The epoch of a derived keystore's key.
  std::optional<std::int64_t> epoch;
  bool all_zero_hmac_key = false;
};

struct TicketReport {
  Sighting sighting;
  FormatGuess format; // the verified format, else the best structural guess
  std::optional<KeyReport> key;        // with a keystore only
  std::optional<SessionFacts> session; // when decrypted and decoded
  // Why the ticket was not opened or its session not decoded.
  std::optional<std::string> error;
};

// Return "found", "no_key", "mac_failed", "decrypt_failed".
std::string_view key_match_name(OpenResult::Status status);

class Inspector {
public:
  // `keystore` (optional) must outlive the inspector. `now` is when "now"
  // states are evaluated. `fallback_sni` names the server for tickets whose
  // input carries no ClientHello name (--sni).
  Inspector(const Keystore* keystore,
            Timestamp now,
            std::optional<std::string> fallback_sni);

  // Looks up a key the keystore does not hold, by the id a ticket names:
  // a derived keystore's epoch, computed through its oracle. Returns none
  // when no key has that id, an error when there is one but it could not
  // be computed (then the tickets it names say why). Called at most once
  // per id.
  using KeyFetcher = std::function<Result<std::optional<Key>>(const KeyId&)>;

  // Start from `keystore`'s keys (copied) and add those `fetch` finds.
  Inspector(const Keystore& keystore,
            Timestamp now,
            std::optional<std::string> fallback_sni,
            KeyFetcher fetch);

  // It points into itself (m_keystore may be m_owned).
  Inspector(const Inspector&) = delete;
  Inspector& operator=(const Inspector&) = delete;

  TicketReport inspect(Sighting&& sighting);

private:
  // Ask the fetcher for the keys `ticket` may name that are not held yet.
  void fetch_missing(std::span<const std::uint8_t> ticket);

  std::optional<Keystore> m_owned; // with a fetcher: the keys so far
  KeyFetcher m_fetch;
  std::set<KeyId> m_asked;
  std::map<KeyId, std::string> m_fetch_errors;
  const Keystore* m_keystore;
  Timestamp m_now;
  std::optional<std::string> m_fallback_sni;
  std::optional<TicketOpener> m_opener;
};

} // namespace stek::inspect
