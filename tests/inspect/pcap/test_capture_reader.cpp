// SPDX-License-Identifier: Apache-2.0
// The capture reader on captures built byte by byte.
#include "inspect/pcap/capture_builder.hpp"

#include <stek/encoding.hpp>
#include <stek/inspect/capture.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <memory>

using namespace stek;
using namespace stek::inspect;
using namespace stek::test::capture;

namespace {

struct Collect final : CaptureSink {
  std::vector<Sighting> sightings;
  std::vector<CaptureProblem> problems;
  void sighting(Sighting&& s) override { sightings.push_back(std::move(s)); }
  void problem(const CaptureProblem& p) override { problems.push_back(p); }
};

struct Outcome {
  Result<CaptureStats> stats;
  Collect seen;
};

Outcome read(const Bytes& file, CaptureOptions options = {}) {
  std::FILE* f = fmemopen(const_cast<std::uint8_t*>(file.data()), file.size(), "rb");
  REQUIRE(f != nullptr);
  if (options.input_name.empty()) {
    options.input_name = "test.pcap";
  }
  Collect seen;
  auto stats = read_capture(f, options, seen);
  std::fclose(f);
  return {std::move(stats), std::move(seen)};
}

// Both sides of a TCP connection, with sequence numbers kept per side.
struct Conversation {
  Flow flow;
  Link link = Link::ethernet;
  std::uint32_t client_seq = 1000;
  std::uint32_t server_seq = 900000;
  std::uint32_t micros = 0;
  bool hop_by_hop = false;
  std::vector<Packet> packets;

  void syn() {
    add(true, client_seq - 1, 0x02, {});
    add(false, server_seq - 1, 0x12, {});
  }
  void add(bool from_client, std::uint32_t seq, std::uint8_t flags, const Bytes& payload) {
    Packet p;
    p.frame = frame(link, tcp_packet(flow, from_client, seq, flags, payload, hop_by_hop),
                    flow.ipv6);
    p.micros = micros;
    micros += 10;
    packets.push_back(std::move(p));
  }
  // Send `payload` in segments of `size` bytes.
  void send(bool from_client, const Bytes& payload, std::size_t size = 1400) {
    auto& seq = from_client ? client_seq : server_seq;
    for (std::size_t i = 0; i < payload.size(); i += size) {
      const auto n = std::min(size, payload.size() - i);
      add(from_client, seq, 0x18,
          Bytes(payload.begin() + static_cast<std::ptrdiff_t>(i),
                payload.begin() + static_cast<std::ptrdiff_t>(i + n)));
      seq += static_cast<std::uint32_t>(n);
    }
  }
  void fin() {
    add(true, client_seq, 0x11, {});
    add(false, server_seq, 0x11, {});
  }
};

const Bytes k_old_ticket = filled(176, 0x5a);
const Bytes k_new_ticket = filled(192, 0xa5);

// A TLS 1.2 resumption: ClientHello with a ticket, ServerHello,
// NewSessionTicket, ChangeCipherSpec, then encrypted bytes.
Conversation tls12(Link link = Link::ethernet, bool ipv6 = false,
                   std::size_t segment = 1400) {
  Conversation c;
  c.link = link;
  c.flow.ipv6 = ipv6;
  c.syn();
  HelloOptions hello;
  hello.session_ticket = k_old_ticket;
  c.send(true, record(22, client_hello(hello)), segment);
  Bytes flight = record(22, server_hello(0x0303, 0xc02f));
  append(flight, record(22, new_session_ticket12(300, k_new_ticket)));
  append(flight, record(20, {1}));
  append(flight, record(22, filled(40, 0x77))); // encrypted Finished
  c.send(false, flight, segment);
  c.send(true, record(20, {1}), segment);
  c.send(true, record(23, filled(100, 0x33)), segment);
  c.fin();
  return c;
}

void check_tls12(const Outcome& out) {
  REQUIRE(out.stats.ok());
  REQUIRE(out.seen.sightings.size() == 2);
  const auto& hello = out.seen.sightings[0];
  CHECK(hello.kind == MessageKind::client_hello_session_ticket);
  CHECK(hello.ticket == k_old_ticket);
  CHECK(hello.sni == "a.example");
  CHECK(hello.tls_version == 0x0303);
  const auto& issued = out.seen.sightings[1];
  CHECK(issued.kind == MessageKind::new_session_ticket);
  CHECK(issued.ticket == k_new_ticket);
  CHECK(issued.sni == "a.example");
  CHECK(issued.cipher_suite == 0xc02f);
  CHECK(issued.lifetime_hint == 300);
  CHECK(issued.tls_version == 0x0303);
  CHECK_FALSE(issued.decrypted_with_keylog);
  CHECK(out.stats->tcp_streams == 1);
  CHECK(out.stats->tls_streams == 1);
  CHECK(out.stats->sightings == 2);
}

} // namespace

TEST_CASE("capture: a TLS 1.2 resumption, with frames, times and endpoints") {
  const auto c = tls12();
  const auto out = read(pcap_file(1, c.packets));
  check_tls12(out);
  CHECK(out.seen.problems.empty());
  const auto& hello = *out.seen.sightings[0].capture;
  CHECK(hello.frame == 3); // after SYN and SYN-ACK
  CHECK(hello.source.address == "10.0.0.1");
  CHECK(hello.source.port == 50000);
  CHECK(hello.destination.address == "10.0.0.2");
  CHECK(hello.destination.port == 8443);
  CHECK(hello.time.time_since_epoch().count() == 1764374400LL * 1000000 + 20);
  const auto& issued = *out.seen.sightings[1].capture;
  CHECK(issued.frame == 4);
  CHECK(issued.source.address == "10.0.0.2");
  CHECK(issued.destination.port == 50000);
  CHECK(out.seen.sightings[0].input == "test.pcap");
  CHECK(out.stats->frames == c.packets.size());
}

TEST_CASE("capture: every link type, and pcapng") {
  for (const Link link : {Link::ethernet, Link::ethernet_vlan, Link::sll,
                          Link::sll2, Link::raw, Link::null_le, Link::loop}) {
    CAPTURE(static_cast<int>(link));
    check_tls12(read(pcap_file(dlt_of(link), tls12(link).packets)));
  }
  check_tls12(read(pcapng_file(1, tls12().packets)));
}

TEST_CASE("capture: IPv6, with an extension header") {
  auto c = tls12(Link::sll2, true);
  const auto out = read(pcap_file(276, c.packets));
  check_tls12(out);
  CHECK(out.seen.sightings[0].capture->source.address == "fd00::1");
  c.hop_by_hop = true;
  Conversation h;
  h.flow.ipv6 = true;
  h.hop_by_hop = true;
  h.link = Link::raw;
  HelloOptions hello;
  hello.session_ticket = k_old_ticket;
  h.send(true, record(22, client_hello(hello)));
  const auto hop = read(pcap_file(101, h.packets));
  REQUIRE(hop.seen.sightings.size() == 1);
  CHECK(hop.seen.sightings[0].ticket == k_old_ticket);
}

TEST_CASE("capture: one-byte segments, out of order and retransmitted") {
  auto c = tls12(Link::ethernet, false, 1);
  // Keep the SYNs first; reverse each run of 7 data segments, and send
  // every 5th one twice.
  std::vector<Packet> shuffled(c.packets.begin(), c.packets.begin() + 2);
  for (std::size_t i = 2; i < c.packets.size(); i += 7) {
    const auto end = std::min(i + 7, c.packets.size() - 2); // FINs last
    if (i >= end) {
      break;
    }
    for (std::size_t j = end; j-- > i;) {
      shuffled.push_back(c.packets[j]);
      if (j % 5 == 0) {
        shuffled.push_back(c.packets[j]);
      }
    }
  }
  shuffled.push_back(c.packets[c.packets.size() - 2]);
  shuffled.push_back(c.packets.back());
  check_tls12(read(pcap_file(1, shuffled)));
}

TEST_CASE("capture: overlapping segments are read once") {
  Conversation c;
  c.syn();
  HelloOptions hello;
  hello.session_ticket = k_old_ticket;
  const auto bytes = record(22, client_hello(hello));
  // 0..100, then 50..end (overlap), then 0..end again.
  c.add(true, c.client_seq, 0x18, Bytes(bytes.begin(), bytes.begin() + 100));
  c.add(true, c.client_seq + 50, 0x18, Bytes(bytes.begin() + 50, bytes.end()));
  c.add(true, c.client_seq, 0x18, bytes);
  const auto out = read(pcap_file(1, c.packets));
  REQUIRE(out.seen.sightings.size() == 1);
  CHECK(out.seen.sightings[0].ticket == k_old_ticket);
}

TEST_CASE("capture: messages split across records, several in one record") {
  Conversation c;
  c.syn();
  HelloOptions hello;
  hello.session_ticket = k_old_ticket;
  const auto ch = client_hello(hello);
  // The ClientHello in three records.
  Bytes client;
  append(client, record(22, Bytes(ch.begin(), ch.begin() + 3)));
  append(client, record(22, Bytes(ch.begin() + 3, ch.begin() + 60)));
  append(client, record(22, Bytes(ch.begin() + 60, ch.end())));
  c.send(true, client);
  // ServerHello and NewSessionTicket in one record.
  Bytes both = server_hello(0x0303, 0xc030);
  append(both, new_session_ticket12(7200, k_new_ticket));
  c.send(false, record(22, both));
  const auto out = read(pcap_file(1, c.packets));
  REQUIRE(out.seen.sightings.size() == 2);
  CHECK(out.seen.sightings[0].ticket == k_old_ticket);
  CHECK(out.seen.sightings[1].ticket == k_new_ticket);
  CHECK(out.seen.sightings[1].cipher_suite == 0xc030);
}

TEST_CASE("capture: empty session_ticket extensions and empty tickets are no tickets") {
  Conversation c;
  c.syn();
  HelloOptions hello; // extension 35 present and empty
  c.send(true, record(22, client_hello(hello)));
  Bytes flight = record(22, server_hello(0x0303, 0xc02f));
  append(flight, record(22, new_session_ticket12(0, {})));
  c.send(false, flight);
  const auto out = read(pcap_file(1, c.packets));
  REQUIRE(out.stats.ok());
  CHECK(out.seen.sightings.empty());
  CHECK(out.stats->tls_streams == 1);
}

namespace {

// Stands in for the key log: the "ciphertext" is the inner plaintext with
// its content type last, as TLS 1.3 lays it out before encryption.
struct PlainDecryptor final : ServerRecordDecryptor {
  int* opened;
  explicit PlainDecryptor(int* count) : opened(count) {}
  Result<Inner> open(std::span<const std::uint8_t> record) override {
    if (record.size() < 7 || record[5] == 0xee) {
      return fail(Errc::crypto, "cannot open");
    }
    ++*opened;
    Inner inner;
    inner.content_type = record.back();
    inner.plaintext.assign(record.begin() + 5, record.end() - 1);
    return inner;
  }
};

struct PlainFactory final : RecordDecryptorFactory {
  int opened = 0;
  int asked = 0;
  std::array<std::uint8_t, 32> random{};
  std::unique_ptr<ServerRecordDecryptor>
  for_connection(std::span<const std::uint8_t, 32> client_random,
                 std::uint16_t suite) override {
    ++asked;
    std::copy(client_random.begin(), client_random.end(), random.begin());
    if (suite != 0x1301) {
      return nullptr;
    }
    return std::make_unique<PlainDecryptor>(&opened);
  }
};

Bytes sealed(std::uint8_t inner_type, const Bytes& plaintext) {
  Bytes body = plaintext;
  body.push_back(inner_type);
  return record(23, body);
}

Conversation tls13_with_retry() {
  Conversation c;
  c.syn();
  HelloOptions first;
  first.session_ticket_extension = false;
  c.send(true, record(22, client_hello(first)));
  c.send(false, record(22, server_hello(0x0304, 0x1301, true)));
  c.send(true, record(20, {1}));
  HelloOptions second;
  second.session_ticket_extension = false;
  second.random_byte = 0x44;
  second.psk_identities = {filled(208, 0x01), filled(120, 0x02)};
  c.send(true, record(22, client_hello(second)));
  Bytes flight = record(22, server_hello(0x0304, 0x1301));
  append(flight, record(20, {1}));
  append(flight, sealed(22, message(8, {0, 0}))); // EncryptedExtensions
  append(flight, sealed(22, message(20, filled(32, 9)))); // Finished
  Bytes two = new_session_ticket13(7200, filled(200, 0x0a));
  append(two, new_session_ticket13(7200, filled(200, 0x0b)));
  append(flight, sealed(22, two));
  append(flight, sealed(23, filled(50, 0)));
  c.send(false, flight);
  c.send(true, record(23, filled(60, 0)));
  return c;
}

} // namespace

TEST_CASE("capture: TLS 1.3 PSK identities after a HelloRetryRequest") {
  const auto out = read(pcap_file(1, tls13_with_retry().packets));
  REQUIRE(out.stats.ok());
  REQUIRE(out.seen.sightings.size() == 2);
  for (std::uint32_t i = 0; i < 2; ++i) {
    const auto& s = out.seen.sightings[i];
    CHECK(s.kind == MessageKind::client_hello_psk_identity);
    CHECK(s.index == i);
    CHECK(s.tls_version == 0x0304);
    CHECK(s.ticket == filled(i == 0 ? 208 : 120, static_cast<std::uint8_t>(i + 1)));
  }
  // Without a key log the encrypted NewSessionTickets stay unseen.
  CHECK(out.stats->decrypted_records == 0);
}

TEST_CASE("capture: with a record decryptor, TLS 1.3 NewSessionTickets too") {
  PlainFactory factory;
  CaptureOptions options;
  options.decryptors = &factory;
  const auto out = read(pcap_file(1, tls13_with_retry().packets), options);
  REQUIRE(out.stats.ok());
  CHECK(factory.asked == 1);
  CHECK(Bytes(factory.random.begin(), factory.random.end()) == filled(32, 0x44)); // the second ClientHello's
  REQUIRE(out.seen.sightings.size() == 4);
  for (std::uint32_t i = 0; i < 2; ++i) {
    const auto& s = out.seen.sightings[2 + i];
    CHECK(s.kind == MessageKind::new_session_ticket);
    CHECK(s.index == i);
    CHECK(s.decrypted_with_keylog);
    CHECK(s.tls_version == 0x0304);
    CHECK(s.cipher_suite == 0x1301);
    CHECK(s.lifetime_hint == 7200);
    CHECK(s.ticket == filled(200, static_cast<std::uint8_t>(0x0a + i)));
  }
  CHECK(out.stats->decrypted_records == 4);
}

TEST_CASE("capture: too many connections, idle connections") {
  std::vector<Packet> packets;
  for (std::uint16_t i = 0; i < 5; ++i) {
    Conversation c;
    c.flow.client_port = static_cast<std::uint16_t>(40000 + i);
    c.syn();
    for (auto& p : c.packets) {
      p.seconds += i * 1000u; // each long after the one before
    }
    packets.insert(packets.end(), c.packets.begin(), c.packets.end());
  }
  CaptureOptions options;
  options.limits.max_streams = 2;
  auto out = read(pcap_file(1, packets), options);
  REQUIRE(out.stats.ok());
  CHECK(out.stats->tcp_streams == 5);
  CHECK(out.stats->evicted_streams == 4); // the idle timeout, 300 s
  CHECK(out.seen.problems.empty());

  // All at once: the limit drops the least recently active.
  for (auto& p : packets) {
    p.seconds = 1764374400;
  }
  out = read(pcap_file(1, packets), options);
  REQUIRE(out.stats.ok());
  CHECK(out.stats->evicted_streams == 3);
  REQUIRE(out.seen.problems.size() == 1);
  CHECK(out.seen.problems[0].what.find("more than 2 TCP connections") != std::string::npos);
}

TEST_CASE("capture: absurd lengths are reported, not allocated") {
  Conversation c;
  c.syn();
  Bytes huge_record{22, 3, 3, 0xff, 0xff};
  c.send(true, huge_record);
  Conversation d;
  d.flow.client_port = 50001;
  d.syn();
  Bytes huge_message = record(22, {1, 0xff, 0xff, 0xff, 0, 0});
  d.send(true, huge_message);
  auto packets = c.packets;
  packets.insert(packets.end(), d.packets.begin(), d.packets.end());
  const auto out = read(pcap_file(1, packets));
  REQUIRE(out.stats.ok());
  CHECK(out.seen.sightings.empty());
  REQUIRE(out.seen.problems.size() == 2);
  CHECK(out.seen.problems[0].what.find("65535 bytes, over the 2^14 + 2048") != std::string::npos);
  CHECK(out.seen.problems[1].what.find("handshake message of 16777215 bytes") != std::string::npos);
}

TEST_CASE("capture: a gap that never fills is bounded") {
  Conversation c;
  c.syn();
  c.client_seq += 10; // the first bytes were never captured
  const Bytes junk = filled(1000, 0x16);
  for (int i = 0; i < 400; ++i) {
    c.send(true, junk);
  }
  CaptureOptions options;
  options.limits.max_buffered_per_direction = 64 * 1024;
  const auto out = read(pcap_file(1, c.packets), options);
  REQUIRE(out.stats.ok());
  REQUIRE(out.seen.problems.size() == 1);
  CHECK(out.seen.problems[0].what.find("out of order") != std::string::npos);
}

TEST_CASE("capture: a capture cut short, damaged frames, and non-TLS streams") {
  auto file = pcap_file(1, tls12().packets);
  // Keep the ClientHello's frame whole, cut into the server's flight.
  auto cut = read(Bytes(file.begin(), file.end() - 700));
  REQUIRE(cut.stats.ok());
  CHECK(cut.seen.sightings.size() == 1);
  REQUIRE_FALSE(cut.seen.problems.empty());
  CHECK(cut.seen.problems.back().what.find("ends early") != std::string::npos);

  Conversation http;
  http.syn();
  const std::string get = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  http.send(true, Bytes(get.begin(), get.end()));
  Packet broken;
  broken.frame = frame(Link::ethernet, {0x45, 0, 0, 10}, false);
  http.packets.push_back(broken);
  const auto out = read(pcap_file(1, http.packets));
  REQUIRE(out.stats.ok());
  CHECK(out.stats->tcp_streams == 1);
  CHECK(out.stats->tls_streams == 0);
  REQUIRE(out.seen.problems.size() == 1);
  CHECK(out.seen.problems[0].frame == http.packets.size());
  CHECK(out.seen.problems[0].what.find("malformed packet") != std::string::npos);
}

TEST_CASE("capture: frames cut by the snap length are reported") {
  auto c = tls12();
  auto& hello = c.packets[2];
  Packet cut = hello;
  cut.original_length = static_cast<std::uint32_t>(hello.frame.size());
  cut.frame.resize(hello.frame.size() - 20);
  c.packets[2] = cut;
  const auto out = read(pcap_file(1, c.packets));
  REQUIRE(out.stats.ok());
  REQUIRE_FALSE(out.seen.problems.empty());
  CHECK(out.seen.problems[0].what.find("snap length") != std::string::npos);
}

TEST_CASE("capture: not a capture, or a link type we cannot read") {
  const Bytes garbage = filled(100, 0x42);
  auto out = read(garbage);
  REQUIRE_FALSE(out.stats.ok());
  CHECK(out.stats.error().code == Errc::parse);
  CHECK(out.stats.error().message.find("test.pcap") != std::string::npos);

  out = read(pcap_file(105, {})); // IEEE 802.11
  REQUIRE_FALSE(out.stats.ok());
  CHECK(out.stats.error().message.find("link type IEEE802_11 (105)") != std::string::npos);

  CHECK(looks_like_capture(pcap_file(1, {})));
  CHECK(looks_like_capture(pcapng_file(1, {})));
  CHECK_FALSE(looks_like_capture(garbage));
}

TEST_CASE("capture: a pcapng timestamp past the year 9999 is damage") {
  // Found by fuzzing: the microsecond clock overflowed.
  auto c = tls12();
  c.packets[2].pcapng_time = 0xfff0000000000000ULL;
  const auto out = read(pcapng_file(1, c.packets));
  REQUIRE(out.stats.ok());
  REQUIRE_FALSE(out.seen.problems.empty());
  CHECK(out.seen.problems[0].frame == 3);
  CHECK(out.seen.problems[0].what.find("timestamp out of range") != std::string::npos);
  // The ClientHello's frame is gone; the server's ticket is still read.
  REQUIRE(out.seen.sightings.size() == 1);
  CHECK(out.seen.sightings[0].kind == MessageKind::new_session_ticket);
}

TEST_CASE("capture: an IPv4 total length of 0 (segmentation offload) means the frame") {
  auto c = tls12(Link::raw);
  for (auto& p : c.packets) {
    p.frame[2] = 0; // captured on the sender before the NIC split it
    p.frame[3] = 0;
  }
  const auto out = read(pcap_file(101, c.packets));
  check_tls12(out);
  CHECK(out.seen.problems.empty());
}
