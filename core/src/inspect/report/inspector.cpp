// SPDX-License-Identifier: Apache-2.0
#include <stek/inspect/inspector.hpp>

namespace stek::inspect {

std::string_view key_match_name(OpenResult::Status status) {
  switch (status) {
  case OpenResult::Status::opened: return "found";
  case OpenResult::Status::no_key: return "no_key";
  case OpenResult::Status::mac_failed: return "mac_failed";
  case OpenResult::Status::decrypt_failed: return "decrypt_failed";
  }
  return "no_key";
}

Inspector::Inspector(const Keystore* keystore,
                     Timestamp now,
                     std::optional<std::string> fallback_sni)
  : m_keystore(keystore), m_now(now), m_fallback_sni(std::move(fallback_sni)) {
  if (m_keystore != nullptr) {
    m_opener.emplace(*m_keystore);
  }
}

Inspector::Inspector(const Keystore& keystore,
                     Timestamp now,
                     std::optional<std::string> fallback_sni,
                     KeyFetcher fetch)
  : m_owned(keystore.clone()),
    m_fetch(std::move(fetch)),
    m_keystore(&*m_owned),
    m_now(now),
    m_fallback_sni(std::move(fallback_sni)) {
  m_opener.emplace(*m_keystore);
}

void Inspector::fetch_missing(std::span<const std::uint8_t> ticket) {
  bool added = false;
  for (const auto& guess : classify_ticket(ticket)) {
    if (!guess.key_id || m_owned->find(*guess.key_id) != nullptr ||
        !m_asked.insert(*guess.key_id).second) {
      continue;
    }
    auto key = m_fetch(*guess.key_id);
    if (!key) {
      m_fetch_errors.emplace(*guess.key_id, key.error().message);
    } else if (*key) {
      m_owned->keys.push_back(std::move(**key));
      added = true;
    }
  }
  if (added) {
    // The opener prepares per-key secrets when it is made.
    m_opener.emplace(*m_keystore);
  }
}

TicketReport Inspector::inspect(Sighting&& sighting) {
  TicketReport report;
  report.sighting = std::move(sighting);
  const auto& ticket = report.sighting.ticket;
  report.format = classify_ticket(ticket).front();
  if (!m_opener) {
    return report;
  }
  if (m_fetch) {
    fetch_missing(ticket);
  }

  // The ClientHello's own name wins: it is what the server derived the
  // ticket's key for. --sni fills in for inputs that carry none.
  const auto& sni = report.sighting.sni ? report.sighting.sni : m_fallback_sni;
  OpenResult opened = m_opener->open(ticket, sni);

  KeyReport key;
  key.status = opened.status;
  key.binding = opened.binding;
  key.all_zero_hmac_key = opened.all_zero_hmac_key;
  if (opened.key_index && *opened.key_index < m_keystore->keys.size()) {
    const Key& match = m_keystore->keys[*opened.key_index];
    key.id = match.id;
    key.origin = match.origin;
    key.epoch = match.epoch;
    key.state_now = match.state_at(m_now);
    if (report.sighting.capture) {
      const auto seen = std::chrono::floor<std::chrono::seconds>(
        report.sighting.capture->time);
      key.state_at_capture = match.state_at(seen);
    }
  }
  if (opened.status == OpenResult::Status::opened ||
      opened.status == OpenResult::Status::decrypt_failed) {
    report.format.format = opened.format;
    report.format.confidence = Confidence::verified;
    report.format.key_id = opened.key_id;
    report.format.reason = "MAC verified";
  }
  if (opened.status == OpenResult::Status::opened) {
    if (opened.session) {
      report.session = std::move(opened.session);
    } else {
      report.error = "cannot decode the session: " + opened.session_error;
    }
  } else {
    report.error = opened.reason;
    if (opened.status == OpenResult::Status::no_key) {
      // A key that exists but could not be computed is not "no key".
      for (const auto& guess : classify_ticket(ticket)) {
        const auto it = guess.key_id ? m_fetch_errors.find(*guess.key_id)
                                     : m_fetch_errors.end();
        if (it != m_fetch_errors.end()) {
          report.error = "its key could not be computed: " + it->second;
          break;
        }
      }
    }
  }
  report.key = std::move(key);
  return report;
}

} // namespace stek::inspect
