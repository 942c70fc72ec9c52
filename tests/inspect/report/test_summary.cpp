// SPDX-License-Identifier: Apache-2.0
// --summary counts per key id and raises the findings an incident responder
// asks about, from reports built by hand.
#include <stek/inspect/summary.hpp>

#include <doctest/doctest.h>

using namespace stek;
using namespace stek::inspect;

namespace {

const Timestamp k_t0 = *parse_time("2026-11-28T14:00:00Z");

KeyId id_of(std::uint8_t b) {
  KeyId::Bytes bytes{};
  bytes.fill(b);
  return KeyId(bytes);
}

TicketReport report(MessageKind kind,
                    std::optional<KeyId> key_id,
                    std::chrono::seconds at,
                    std::uint64_t frame) {
  TicketReport r;
  r.sighting.input = "cap.pcap";
  r.sighting.kind = kind;
  CaptureOrigin origin;
  origin.frame = frame;
  origin.time = k_t0 + at;
  r.sighting.capture = origin;
  r.format.format = TicketFormat::openssl;
  r.format.key_id = key_id;
  return r;
}

KeyReport found(KeyId id, KeyState then, KeyState now) {
  KeyReport k;
  k.status = OpenResult::Status::opened;
  k.id = id;
  k.state_at_capture = then;
  k.state_now = now;
  k.binding = "unbound";
  return k;
}

} // namespace

TEST_CASE("summary: counts per key id and message kind, first and last seen") {
  Summary summary;
  summary.add(report(MessageKind::new_session_ticket, id_of(1), std::chrono::seconds(5), 1));
  summary.add(report(MessageKind::client_hello_session_ticket, id_of(1), std::chrono::seconds(2), 2));
  summary.add(report(MessageKind::client_hello_psk_identity, id_of(2), std::chrono::seconds(9), 3));
  CHECK(summary.tickets() == 3);
  REQUIRE(summary.by_key().size() == 2);
  const auto& one = summary.by_key().at(id_of(1));
  CHECK(one.counts[static_cast<std::size_t>(MessageKind::new_session_ticket)] == 1);
  CHECK(one.counts[static_cast<std::size_t>(MessageKind::client_hello_session_ticket)] == 1);
  CHECK(*one.first_seen == k_t0 + std::chrono::seconds(2));
  CHECK(*one.last_seen == k_t0 + std::chrono::seconds(5));
  CHECK_FALSE(one.known);
  // Without a keystore nothing is judged.
  CHECK(summary.findings().empty());
}

TEST_CASE("summary: unknown, forged, expired and revoked keys") {
  Summary summary;
  auto unknown = report(MessageKind::client_hello_session_ticket, id_of(3), {}, 1);
  unknown.key = KeyReport{};
  summary.add(unknown);

  auto forged = report(MessageKind::client_hello_session_ticket, id_of(4), {}, 2);
  forged.key = KeyReport{};
  forged.key->status = OpenResult::Status::mac_failed;
  forged.key->id = id_of(4);
  summary.add(forged);

  auto expired = report(MessageKind::client_hello_psk_identity, id_of(5), {}, 3);
  expired.key = found(id_of(5), KeyState::expired, KeyState::expired);
  summary.add(expired);

  auto revoked = report(MessageKind::new_session_ticket, id_of(6), {}, 4);
  revoked.key = found(id_of(6), KeyState::revoked, KeyState::revoked);
  summary.add(revoked);

  // Fine then, revoked now: not a finding about that moment.
  auto later = report(MessageKind::client_hello_psk_identity, id_of(7), {}, 5);
  later.key = found(id_of(7), KeyState::active, KeyState::revoked);
  summary.add(later);

  CHECK(summary.finding_count(FindingKind::unknown_key) == 1);
  CHECK(summary.finding_count(FindingKind::mac_failed) == 1);
  CHECK(summary.finding_count(FindingKind::expired_key) == 1);
  CHECK(summary.finding_count(FindingKind::revoked_key) == 1);
  REQUIRE(summary.findings().size() == 4);
  CHECK(summary.findings()[0].frame == 1);
  CHECK(summary.findings()[3].key_id == id_of(6));
  CHECK(summary.by_key().at(id_of(7)).known);
  CHECK_FALSE(summary.by_key().at(id_of(3)).known);
}

TEST_CASE("summary: a session presented under another name, or too late") {
  Summary summary;
  auto crossed = report(MessageKind::client_hello_psk_identity, id_of(1),
                        std::chrono::seconds(60), 7);
  crossed.sighting.sni = "b.example";
  crossed.key = found(id_of(1), KeyState::active, KeyState::active);
  crossed.session = SessionFacts{};
  crossed.session->sni = "a.example";
  crossed.session->issued = k_t0;
  crossed.session->lifetime = std::chrono::seconds(300);
  summary.add(crossed);

  // Same name in another case and with the root dot: no finding.
  auto same = crossed;
  same.sighting.sni = "A.Example.";
  summary.add(same);

  // A NewSessionTicket is not a presentation.
  auto issued = crossed;
  issued.sighting.kind = MessageKind::new_session_ticket;
  summary.add(issued);

  auto stale = crossed;
  stale.sighting.sni = "a.example";
  stale.sighting.capture->time = k_t0 + std::chrono::seconds(301);
  summary.add(stale);

  CHECK(summary.finding_count(FindingKind::cross_sni) == 1);
  CHECK(summary.finding_count(FindingKind::past_lifetime) == 1);
  const auto& f = summary.findings().front();
  CHECK(f.kind == FindingKind::cross_sni);
  CHECK(f.client_hello_sni == "b.example");
  CHECK(f.session_sni == "a.example");
  CHECK(f.frame == 7);
}

TEST_CASE("summary: memory stays bounded under a flood of key ids") {
  Summary summary;
  for (std::uint32_t i = 0; i < Summary::k_max_key_ids + 10; ++i) {
    KeyId::Bytes bytes{};
    bytes[0] = static_cast<std::uint8_t>(i);
    bytes[1] = static_cast<std::uint8_t>(i >> 8);
    bytes[2] = static_cast<std::uint8_t>(i >> 16);
    auto r = report(MessageKind::client_hello_session_ticket, KeyId(bytes), {}, i + 1);
    r.key = KeyReport{};
    summary.add(r);
  }
  CHECK(summary.by_key().size() == Summary::k_max_key_ids);
  CHECK(summary.other_key_ids_tickets() == 10);
  CHECK(summary.findings().size() == Summary::k_max_findings);
  CHECK(summary.findings_dropped() == Summary::k_max_key_ids + 10 - Summary::k_max_findings);
  CHECK(summary.finding_count(FindingKind::unknown_key) == Summary::k_max_key_ids + 10);
}
