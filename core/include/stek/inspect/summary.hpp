// SPDX-License-Identifier: Apache-2.0
// `stekctl inspect --summary`: tickets counted per key id and message kind,
// and the findings an incident responder looks for. Memory is bounded
// whatever the number of tickets.
#pragma once
#include <stek/inspect/inspector.hpp>
#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace stek::inspect {

using CaptureTime = std::chrono::sys_time<std::chrono::microseconds>;

inline constexpr std::size_t k_message_kinds = 5;

struct KeyIdSummary {
  std::optional<KeyId> key_id; // none: formats without a name on the wire
  bool known = false;          // in the keystore
  std::optional<KeyState> state_now;
  std::array<std::uint64_t, k_message_kinds> counts{}; // by MessageKind
  std::optional<CaptureTime> first_seen;
  std::optional<CaptureTime> last_seen;
};

enum class FindingKind {
  unknown_key,   // no key of the keystore has the ticket's name
  mac_failed,    // a key has its name but not its MAC: forged or other secret
  expired_key,   // seen while its key was expired
  revoked_key,   // seen while its key was revoked
  past_lifetime, // presented after the session's lifetime ran out
  cross_sni,     // presented under a name other than the session's own
  zero_hmac_key, // MAC verified under an all-zero key (Apache 2.4 bug)
};

// Return "unknown_key", "mac_failed", "expired_key", "revoked_key",
// "past_lifetime", "cross_sni", "zero_hmac_key".
std::string_view finding_kind_name(FindingKind kind);

struct Finding {
  FindingKind kind;
  std::optional<KeyId> key_id;
  MessageKind message;
  std::string input;
  std::optional<std::uint64_t> frame;
  std::optional<CaptureTime> time;
  std::optional<std::string> client_hello_sni;
  std::optional<std::string> session_sni;
};

class Summary {
public:
  // At most this many distinct key ids are counted one by one (the rest
  // together), and this many findings kept (the rest counted).
  static constexpr std::size_t k_max_key_ids = 4096;
  static constexpr std::size_t k_max_findings = 1000;

  void add(const TicketReport& report);

  std::uint64_t tickets() const { return m_tickets; }
  const std::map<std::optional<KeyId>, KeyIdSummary>& by_key() const {
    return m_by_key;
  }
  // Tickets whose key id did not fit in k_max_key_ids.
  std::uint64_t other_key_ids_tickets() const { return m_other; }
  const std::vector<Finding>& findings() const { return m_findings; }
  std::uint64_t findings_dropped() const { return m_findings_dropped; }
  std::uint64_t finding_count(FindingKind kind) const;

private:
  void record(Finding finding);

  std::uint64_t m_tickets = 0;
  std::uint64_t m_other = 0;
  std::map<std::optional<KeyId>, KeyIdSummary> m_by_key;
  std::vector<Finding> m_findings;
  std::uint64_t m_findings_dropped = 0;
  std::array<std::uint64_t, 7> m_finding_counts{};
};

} // namespace stek::inspect
