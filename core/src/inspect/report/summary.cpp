// SPDX-License-Identifier: Apache-2.0
#include <stek/derive.hpp>
#include <stek/inspect/summary.hpp>

namespace stek::inspect {
namespace {

// Compare server names as servers bind them: case and a trailing dot do not
// count.
bool same_server_name(const std::string& a, const std::string& b) {
  auto na = normalize_server_name(a);
  auto nb = normalize_server_name(b);
  if (na && nb) {
    return *na == *nb;
  }
  return a == b;
}

bool presented_by_client(MessageKind kind) {
  return kind == MessageKind::client_hello_session_ticket ||
         kind == MessageKind::client_hello_psk_identity;
}

} // namespace

std::string_view finding_kind_name(FindingKind kind) {
  switch (kind) {
  case FindingKind::unknown_key: return "unknown_key";
  case FindingKind::mac_failed: return "mac_failed";
  case FindingKind::expired_key: return "expired_key";
  case FindingKind::revoked_key: return "revoked_key";
  case FindingKind::past_lifetime: return "past_lifetime";
  case FindingKind::cross_sni: return "cross_sni";
  case FindingKind::zero_hmac_key: return "zero_hmac_key";
  }
  return "unknown_key";
}

std::uint64_t Summary::finding_count(FindingKind kind) const {
  return m_finding_counts[static_cast<std::size_t>(kind)];
}

void Summary::record(Finding finding) {
  ++m_finding_counts[static_cast<std::size_t>(finding.kind)];
  if (m_findings.size() < k_max_findings) {
    m_findings.push_back(std::move(finding));
  } else {
    ++m_findings_dropped;
  }
}

void Summary::add(const TicketReport& report) {
  ++m_tickets;
  const Sighting& s = report.sighting;
  std::optional<CaptureTime> seen;
  if (s.capture) {
    seen = s.capture->time;
  }

  const auto key_id = report.format.key_id;
  auto it = m_by_key.find(key_id);
  if (it == m_by_key.end()) {
    if (m_by_key.size() >= k_max_key_ids) {
      ++m_other;
    } else {
      it = m_by_key.emplace(key_id, KeyIdSummary{}).first;
      it->second.key_id = key_id;
    }
  }
  if (it != m_by_key.end()) {
    KeyIdSummary& entry = it->second;
    ++entry.counts[static_cast<std::size_t>(s.kind)];
    if (report.key && report.key->id) {
      entry.known = true;
      entry.state_now = report.key->state_now;
    }
    if (seen) {
      if (!entry.first_seen || *seen < *entry.first_seen) {
        entry.first_seen = seen;
      }
      if (!entry.last_seen || *seen > *entry.last_seen) {
        entry.last_seen = seen;
      }
    }
  }

  auto finding = [&](FindingKind kind) {
    Finding f{kind, key_id, s.kind, s.input, std::nullopt, seen, s.sni,
              std::nullopt};
    if (s.capture) {
      f.frame = s.capture->frame;
    }
    if (report.session) {
      f.session_sni = report.session->sni;
    }
    record(std::move(f));
  };

  if (!report.key) {
    return; // without a keystore there is nothing to judge against
  }
  const KeyReport& key = *report.key;
  if (key.status == OpenResult::Status::no_key &&
      report.format.format != TicketFormat::unknown) {
    finding(FindingKind::unknown_key);
  }
  if (key.status == OpenResult::Status::mac_failed) {
    finding(FindingKind::mac_failed);
  }
  if (key.all_zero_hmac_key) {
    finding(FindingKind::zero_hmac_key);
  }
  // Judge at the moment the ticket was seen where the capture says when;
  // otherwise (a ticket pasted from a log) by the key's state now.
  const auto state = key.state_at_capture ? key.state_at_capture : key.state_now;
  if (state == KeyState::expired) {
    finding(FindingKind::expired_key);
  }
  if (state == KeyState::revoked) {
    finding(FindingKind::revoked_key);
  }
  if (!report.session || !presented_by_client(s.kind)) {
    return;
  }
  const SessionFacts& session = *report.session;
  if (seen && session.issued && session.lifetime) {
    const auto deadline = *session.issued + *session.lifetime;
    if (std::chrono::floor<std::chrono::seconds>(*seen) > deadline) {
      finding(FindingKind::past_lifetime);
    }
  }
  if (s.sni && session.sni && !same_server_name(*s.sni, *session.sni)) {
    finding(FindingKind::cross_sni);
  }
}

} // namespace stek::inspect
