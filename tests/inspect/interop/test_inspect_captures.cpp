// SPDX-License-Identifier: Apache-2.0
// stekctl inspect on real captures of nginx 1.22 and `openssl s_client`
// on loopback, with tshark 4.0 as the oracle of which tickets a capture
// holds (support.cpp has the extraction recipe) and the key files nginx
// used as the oracle of which key each ticket must name.
#include "inspect/interop/support.hpp"
#include "inspect/interop/verify.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <set>

namespace stek::inspect_interop {
namespace {

const std::string k_nst = "new_session_ticket";
const std::string k_ch35 = "client_hello_session_ticket";
const std::string k_psk = "client_hello_psk_identity";

NginxSite site_with(const std::vector<KeyFile>& keys) {
  NginxSite site;
  for (const auto& k : keys) {
    site.ticket_keys.push_back(k.path);
  }
  site.extra = "    ssl_session_tickets on;\n";
  return site;
}

// The usual workload: TLS 1.2 full handshake and resumption, TLS 1.3 full
// handshake and resumption (with the key log). Returns the runs.
struct Workload {
  ClientRun tls12_new, tls12_resumed, tls13_new, tls13_resumed;
};

Workload run_workload(const Workspace& ws, std::uint16_t port, const fs::path& keylog,
                      const std::string& tag = "") {
  Workload w;
  const auto s12 = ws.path("s12" + tag + ".pem");
  const auto s13 = ws.path("s13" + tag + ".pem");
  w.tls12_new = run_client(port, Tls::v1_2, {.sess_out = s12});
  REQUIRE_MESSAGE((w.tls12_new.ok && !w.tls12_new.reused), w.tls12_new.details());
  REQUIRE_MESSAGE(!w.tls12_new.ticket.empty(), w.tls12_new.details());
  w.tls12_resumed = run_client(port, Tls::v1_2, {.sess_in = s12});
  REQUIRE_MESSAGE(w.tls12_resumed.reused, w.tls12_resumed.details());
  w.tls13_new = run_client(port, Tls::v1_3, {.sess_out = s13, .keylog = keylog});
  REQUIRE_MESSAGE((w.tls13_new.ok && !w.tls13_new.reused), w.tls13_new.details());
  REQUIRE_MESSAGE(!w.tls13_new.ticket.empty(), w.tls13_new.details());
  w.tls13_resumed = run_client(port, Tls::v1_3,
                               {.sess_in = s13, .sess_out = ws.path("s13" + tag + "-2.pem"),
                                .keylog = keylog});
  REQUIRE_MESSAGE(w.tls13_resumed.reused, w.tls13_resumed.details());
  return w;
}

void note_workload(Verify& v, const Workload& w, const std::string& key_id) {
  for (const auto* run : {&w.tls12_new, &w.tls12_resumed, &w.tls13_new, &w.tls13_resumed}) {
    note_cipher(v.session, *run);
    if (!run->ticket.empty()) {
      v.issued_by[to_hex(run->ticket)] = key_id;
    }
  }
}

// What the usual workload shows: the TLS 1.2 ticket issued and presented,
// the TLS 1.3 ticket s_client saved presented as a PSK identity and (with
// the key log) among the NewSessionTickets.
void check_workload_shape(const Verified& r, const Workload& w) {
  const auto t12 = to_hex(w.tls12_new.ticket);
  const auto t13 = to_hex(w.tls13_new.ticket);
  const auto counts = kind_counts(r.oracle);
  CHECK(counts.size() == 3);
  std::size_t nst = 0, ch35 = 0, psk = 0;
  for (const auto& o : r.oracle) {
    if (o.kind == k_nst) {
      ++nst;
      CHECK(o.hex == t12);
    } else if (o.kind == k_ch35) {
      ++ch35;
      CHECK(o.hex == t12);
    } else if (o.kind == k_psk) {
      ++psk;
      CHECK(o.hex == t13);
    }
  }
  CHECK(nst == 1);
  CHECK(ch35 == 1);
  CHECK(psk == 1);
  if (!r.with_keylog.empty()) {
    bool saved_seen = false, resumed_seen = false;
    std::size_t tls13_nst = 0;
    for (const auto& t : r.with_keylog) {
      if (t.value("message", "") == k_nst && t.value("decrypted_with_keylog", false)) {
        ++tls13_nst;
        saved_seen = saved_seen || t.value("ticket_sha256", "") == digest_of_hex(t13);
        resumed_seen = resumed_seen || t.value("ticket_sha256", "") == digest_of_hex(to_hex(w.tls13_resumed.ticket));
      }
    }
    // OpenSSL sends two tickets after a full TLS 1.3 handshake, one after
    // a resumption.
    CHECK(tls13_nst >= 3);
    CHECK_MESSAGE(saved_seen, "the ticket in the -sess_out PEM is not among the TLS 1.3 NSTs");
    CHECK_MESSAGE(resumed_seen, "the renewed TLS 1.3 ticket is not among the NSTs");
  }
}

// `stekctl inspect s.pem`: the ticket the PEM holds (a second look at the
// bytes read_ticket() took from it with the OpenSSL API).
void check_pem(const fs::path& pem, const Bytes& ticket) {
  const auto tickets = inspect_ndjson({pem.string()});
  REQUIRE(tickets.size() == 1);
  CHECK(tickets[0].value("message", "") == "pem_session");
  CHECK(tickets[0].value("ticket_sha256", "") == digest_of_hex(to_hex(ticket)));
  CHECK_FALSE(tickets[0].contains("frame"));
}

// The pcap link type (header bytes 20-23, little-endian here) or 0.
std::uint32_t pcap_link_type(const fs::path& file) {
  const auto head = read_file(file).substr(0, 24);
  if (head.size() < 24) {
    return 0;
  }
  std::uint32_t v = 0;
  std::memcpy(&v, head.data() + 20, 4);
  return v;
}

std::uint32_t magic_of(const fs::path& file) {
  const auto head = read_file(file).substr(0, 4);
  std::uint32_t v = 0;
  if (head.size() == 4) {
    std::memcpy(&v, head.data(), 4);
  }
  return v;
}

} // namespace

TEST_CASE("inspect capture: TLS 1.2 NewSessionTicket, then the ticket in a resuming ClientHello") {
  Workspace ws;
  const auto key = make_key_file(ws.path("a.key"));
  const auto ks = ws.path("ks.json");
  import_keys(ks, "nginx", {key});
  NginxServer nginx(ws.path("nginx"), ws.cert, site_with({key}));
  nginx.start();

  PacketCapture cap(ws.path("tls12.pcap"), {nginx.port()});
  const auto first = run_client(nginx.port(), Tls::v1_2, {.sess_out = ws.path("s.pem")});
  const auto again = run_client(nginx.port(), Tls::v1_2, {.sess_in = ws.path("s.pem")});
  cap.stop();
  REQUIRE_MESSAGE((first.ok && !first.reused && !first.ticket.empty()), first.details());
  REQUIRE_MESSAGE(again.reused, again.details());
  REQUIRE(first.protocol == "TLSv1.2");

  Verify v{.ports = {nginx.port()}, .keystore = ks};
  note_cipher(v.session, first);
  note_cipher(v.session, again);
  v.issued_by[to_hex(first.ticket)] = key.id;
  const auto r = verify_capture(cap.file(), v);

  // One ticket, seen twice: issued, then presented.
  REQUIRE(r.oracle.size() == 2);
  CHECK(kind_counts(r.oracle) ==
        std::map<std::string, std::size_t>{{k_nst, 1}, {k_ch35, 1}});
  for (const auto& o : r.oracle) {
    CHECK(o.hex == to_hex(first.ticket));
    CHECK(o.sni == "a.example");
  }
  for (const auto& t : r.decoded) {
    CHECK(t["key"].value("state_at_capture", "") == "active");
    CHECK(t["key"].value("state_now", "") == "active");
    CHECK(t["session"].value("lifetime_seconds", 0) == 3600); // ssl_session_timeout 1h
  }
  check_pem(ws.path("s.pem"), first.ticket);
}

TEST_CASE("inspect capture: TLS 1.3 PSK identities, and NewSessionTickets with --keylog") {
  Workspace ws;
  const auto key = make_key_file(ws.path("a.key"));
  const auto ks = ws.path("ks.json");
  import_keys(ks, "nginx", {key});
  NginxServer nginx(ws.path("nginx"), ws.cert, site_with({key}));
  nginx.start();

  const auto keylog = ws.path("keylog.txt");
  const auto s1 = ws.path("s1.pem");
  const auto s2 = ws.path("s2.pem");
  PacketCapture cap(ws.path("tls13.pcap"), {nginx.port()});
  const auto first = run_client(nginx.port(), Tls::v1_3, {.sess_out = s1, .keylog = keylog});
  const auto again =
    run_client(nginx.port(), Tls::v1_3, {.sess_in = s1, .sess_out = s2, .keylog = keylog});
  cap.stop();
  REQUIRE_MESSAGE((first.ok && !first.reused && !first.ticket.empty()), first.details());
  REQUIRE_MESSAGE((again.reused && !again.ticket.empty()), again.details());
  REQUIRE(first.protocol == "TLSv1.3");

  Verify v{.ports = {nginx.port()}, .keylog = keylog, .keystore = ks};
  note_cipher(v.session, first);
  note_cipher(v.session, again);
  // Every NewSessionTicket tshark decrypts came from the one key.
  issued_under(v, tshark_tickets(cap.file(), {.tls_ports = {nginx.port()}, .keylog = keylog}),
               key.id);
  const auto r = verify_capture(cap.file(), v);

  // Without the key log: only the identity the resumption offered.
  REQUIRE(r.oracle.size() == 1);
  CHECK(r.oracle[0].kind == k_psk);
  CHECK(r.oracle[0].hex == to_hex(first.ticket));
  CHECK(r.oracle[0].index == 0);
  // With it: OpenSSL's two tickets after the full handshake, one after
  // the resumption; the PEMs hold the last of each connection.
  std::vector<std::string> nsts;
  for (const auto& t : r.with_keylog) {
    if (t.value("message", "") == k_nst) {
      CHECK(t.value("decrypted_with_keylog", false));
      CHECK(t.value("tls_version", "") == "TLSv1.3");
      CHECK(t.value("sni", "") == "a.example");
      nsts.push_back(t.value("ticket_sha256", ""));
    }
  }
  REQUIRE(nsts.size() == 3);
  CHECK(nsts[1] == digest_of_hex(to_hex(first.ticket)));
  CHECK(nsts[2] == digest_of_hex(to_hex(again.ticket)));
  // The PSK identity has no keylog marker: it was never encrypted.
  for (const auto& t : r.with_keylog) {
    if (t.value("message", "") == k_psk) {
      CHECK_FALSE(t.contains("decrypted_with_keylog"));
    }
  }
  check_pem(s1, first.ticket);
  check_pem(s2, again.ticket);
}

TEST_CASE("inspect capture: key rotation, tickets before and after carry the key in effect") {
  Workspace ws;
  const auto a = make_key_file(ws.path("a.key"));
  const auto b = make_key_file(ws.path("b.key"));
  const auto ks = ws.path("ks.json");
  // The server's order after the rotation: B encrypts, A decrypts.
  import_keys(ks, "nginx", {b, a});
  NginxServer nginx(ws.path("nginx"), ws.cert, site_with({a}));
  nginx.start();
  const auto keylog = ws.path("keylog.txt");
  const auto port = nginx.port();
  Verify v{.ports = {port}, .keylog = keylog, .keystore = ks};

  // Before: A alone.
  PacketCapture before(ws.path("before.pcap"), {port});
  const auto a12 = run_client(port, Tls::v1_2, {.sess_out = ws.path("a12.pem")});
  const auto a13 = run_client(port, Tls::v1_3, {.sess_out = ws.path("a13.pem"), .keylog = keylog});
  before.stop();
  REQUIRE_MESSAGE(!a12.ticket.empty(), a12.details());
  REQUIRE_MESSAGE(!a13.ticket.empty(), a13.details());

  // Rotate: B first (encrypts), A second (decrypts only).
  nginx.site().ticket_keys = {b.path, a.path};
  nginx.reload();
  PacketCapture after(ws.path("after.pcap"), {port});
  // A's tickets resume (TLS 1.2: nginx renews the ticket under B)...
  const auto r12 = run_client(port, Tls::v1_2, {.sess_in = ws.path("a12.pem")});
  const auto r13 = run_client(port, Tls::v1_3,
                              {.sess_in = ws.path("a13.pem"), .sess_out = ws.path("b13.pem"),
                               .keylog = keylog});
  // ...and new sessions get B's.
  const auto b12 = run_client(port, Tls::v1_2, {.sess_out = ws.path("b12.pem")});
  const auto b12r = run_client(port, Tls::v1_2, {.sess_in = ws.path("b12.pem")});
  const auto b13r = run_client(port, Tls::v1_3, {.sess_in = ws.path("b13.pem"), .keylog = keylog});
  after.stop();
  for (const auto* run : {&r12, &r13, &b12r, &b13r}) {
    REQUIRE_MESSAGE(run->reused, run->details());
  }
  REQUIRE_MESSAGE(!b12.ticket.empty(), b12.details());
  REQUIRE_MESSAGE(!r13.ticket.empty(), r13.details());

  for (const auto* run : {&a12, &a13, &r12, &r13, &b12, &b12r, &b13r}) {
    note_cipher(v.session, *run);
  }
  issued_under(v, tshark_tickets(before.file(), {.tls_ports = {port}, .keylog = keylog}), a.id);
  issued_under(v, tshark_tickets(after.file(), {.tls_ports = {port}, .keylog = keylog}), b.id);
  // s_client's own copies agree with the capture's.
  CHECK(v.issued_by.at(to_hex(a12.ticket)) == a.id);
  CHECK(v.issued_by.at(to_hex(a13.ticket)) == a.id);
  CHECK(v.issued_by.at(to_hex(b12.ticket)) == b.id);
  CHECK(v.issued_by.at(to_hex(r13.ticket)) == b.id);

  const auto rb = verify_capture(before.file(), v);
  const auto ra = verify_capture(after.file(), v);
  for (const auto& o : rb.full) {
    CHECK(o.hex.substr(0, 32) == a.id);
  }
  // After: every NewSessionTicket is B's (two TLS 1.2 ones: the renewal
  // and the new session); the ClientHellos carry A's and then B's.
  std::multiset<std::string> hello_keys;
  std::size_t tls12_nsts = 0;
  for (const auto& o : ra.full) {
    if (o.kind == k_nst) {
      CHECK(o.hex.substr(0, 32) == b.id);
    } else {
      hello_keys.insert(o.kind + " " + o.hex.substr(0, 32));
    }
  }
  for (const auto& o : ra.oracle) {
    tls12_nsts += o.kind == k_nst ? 1u : 0u;
  }
  CHECK_MESSAGE(tls12_nsts == 2, "nginx renews a TLS 1.2 ticket of a decrypt-only key");
  CHECK(hello_keys == std::multiset<std::string>{k_ch35 + " " + a.id, k_ch35 + " " + b.id,
                                                 k_psk + " " + a.id, k_psk + " " + b.id});
  // The keystore's view: B active, A decrypt-only.
  for (const auto* set : {&rb.decoded, &ra.decoded}) {
    for (const auto& t : *set) {
      const bool is_b = t.value("key_id", "") == b.id;
      CHECK(t["key"].value("state_at_capture", "") == (is_b ? "active" : "decrypt-only"));
    }
  }

  // Both captures in one run: each ticket keeps its input.
  const auto both = inspect_ndjson({"--keystore", ks.string(), "--keylog", keylog.string(),
                                    before.file().string(), after.file().string()});
  CHECK(both.size() == rb.full.size() + ra.full.size());
  check_against_oracle(of_input(both, before.file().string()), rb.full, true);
  check_against_oracle(of_input(both, after.file().string()), ra.full, true);
}

TEST_CASE("inspect capture: a 48-byte nginx key (AES-128)") {
  Workspace ws;
  const auto key = make_key_file(ws.path("k48.key"), 48);
  const auto ks = ws.path("ks.json");
  import_keys(ks, "nginx48", {key});
  NginxServer nginx(ws.path("nginx"), ws.cert, site_with({key}));
  nginx.start();
  const auto keylog = ws.path("keylog.txt");
  PacketCapture cap(ws.path("k48.pcap"), {nginx.port()});
  const auto w = run_workload(ws, nginx.port(), keylog);
  cap.stop();
  // A 48-byte key makes OpenSSL-format tickets with AES-128-CBC: no
  // difference in size from AES-256-CBC; the key decides.
  CHECK(split_key(read_file(key.path), KeyLayout::nginx48).aes.size() == 16);
  Verify v{.ports = {nginx.port()}, .keylog = keylog, .keystore = ks};
  v.session.origin = "nginx48";
  note_workload(v, w, key.id);
  issued_under(v, tshark_tickets(cap.file(), {.tls_ports = {nginx.port()}, .keylog = keylog}),
               key.id);
  const auto r = verify_capture(cap.file(), v);
  check_workload_shape(r, w);
}

TEST_CASE("inspect capture: Linux cooked (-i any, SLL and SLL2), pcapng and nanosecond pcap") {
  Workspace ws;
  const auto key = make_key_file(ws.path("a.key"));
  const auto ks = ws.path("ks.json");
  import_keys(ks, "nginx", {key});
  NginxServer nginx(ws.path("nginx"), ws.cert, site_with({key}));
  nginx.start();
  const auto keylog = ws.path("keylog.txt");
  const auto port = nginx.port();

  // Four captures of the same traffic at once.
  PacketCapture lo(ws.path("lo.pcap"), {port});
  PacketCapture sll2(ws.path("any-sll2.pcap"), {port}, {.interface = "any"});
  PacketCapture sll(ws.path("any-sll.pcap"), {port}, {.interface = "any", .link_type = "LINUX_SLL"});
  PacketCapture ng(ws.path("lo.pcapng"), {port}, {.tool = CaptureTool::dumpcap});
  const auto w = run_workload(ws, port, keylog);
  lo.stop();
  sll2.stop();
  sll.stop();
  ng.stop();
  convert_capture(lo.file(), ws.path("converted.pcapng"), "pcapng");
  convert_capture(lo.file(), ws.path("nsec.pcap"), "nsecpcap");

  // They are what they should be.
  CHECK(pcap_link_type(lo.file()) == 1);      // EN10MB
  CHECK(pcap_link_type(sll2.file()) == 276);  // LINUX_SLL2
  CHECK(pcap_link_type(sll.file()) == 113);   // LINUX_SLL
  CHECK(magic_of(ng.file()) == 0x0a0d0d0a);   // pcapng section header
  CHECK(magic_of(ws.path("converted.pcapng")) == 0x0a0d0d0a);
  CHECK(magic_of(ws.path("nsec.pcap")) == 0xa1b23c4d); // nanosecond pcap

  Verify v{.ports = {port}, .keylog = keylog, .keystore = ks};
  note_workload(v, w, key.id);
  issued_under(v, tshark_tickets(lo.file(), {.tls_ports = {port}, .keylog = keylog}), key.id);

  std::vector<std::string> reference;
  for (const auto& file : {lo.file(), sll2.file(), sll.file(), ng.file(),
                           ws.path("converted.pcapng"), ws.path("nsec.pcap")}) {
    CAPTURE(file.filename().string());
    const auto r = verify_capture(file, v);
    check_workload_shape(r, w);
    std::vector<std::string> found;
    for (const auto& o : r.full) {
      found.push_back(o.kind + " " + o.hex);
    }
    std::sort(found.begin(), found.end());
    if (reference.empty()) {
      reference = found;
    }
    CHECK_MESSAGE(found == reference, "this capture holds other tickets than lo.pcap");
  }
}

TEST_CASE("inspect capture: a proxy that forwards in 1-5 byte segments") {
  Workspace ws;
  const auto key = make_key_file(ws.path("a.key"));
  const auto ks = ws.path("ks.json");
  import_keys(ks, "nginx", {key});
  NginxServer nginx(ws.path("nginx"), ws.cert, site_with({key}));
  nginx.start();
  ChunkingProxy proxy(nginx.port());
  const auto keylog = ws.path("keylog.txt");
  // Both legs: client <-> proxy carries the server's flight in tiny
  // segments, proxy <-> nginx the client's.
  PacketCapture cap(ws.path("proxy.pcap"), {proxy.port(), nginx.port()});
  const auto w = run_workload(ws, proxy.port(), keylog);
  cap.stop();
  CHECK(proxy.connections() == 4);
  const auto tiny = tiny_segments(cap.file());
  CHECK_MESSAGE(tiny > 1000, "only " << tiny << " segments of 1-5 bytes");

  Verify v{.ports = {proxy.port(), nginx.port()}, .keylog = keylog, .keystore = ks};
  note_workload(v, w, key.id);
  issued_under(v, tshark_tickets(cap.file(), {.tls_ports = v.ports, .keylog = keylog}), key.id);
  const auto r = verify_capture(cap.file(), v);
  // Every ticket twice, once per leg.
  std::map<std::string, std::size_t> seen;
  for (const auto& o : r.full) {
    ++seen[o.kind + " " + o.hex];
  }
  for (const auto& [what, n] : seen) {
    CHECK_MESSAGE(n == 2, what.substr(0, 60) << " seen " << n << " times");
  }
  // Both legs of each kind: 1 TLS 1.2 NST, 1 ClientHello ticket, 1 PSK
  // identity, 3 TLS 1.3 NSTs; twice.
  CHECK(kind_counts(r.oracle) ==
        std::map<std::string, std::size_t>{{k_nst, 2}, {k_ch35, 2}, {k_psk, 2}});
  CHECK(kind_counts(r.full) ==
        std::map<std::string, std::size_t>{{k_nst, 8}, {k_ch35, 2}, {k_psk, 2}});
}

} // namespace stek::inspect_interop
