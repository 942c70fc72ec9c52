// SPDX-License-Identifier: Apache-2.0
#include "connection_tracker.hpp"

#include "tls_handshake.hpp"

#include <algorithm>
#include <cstring>

namespace stek::inspect::pcap {
namespace {

// RFC 8446 section 5.2: a record may exceed 2^14 by the AEAD expansion,
// 256 bytes; TLS 1.2 allowed 2048. Anything longer is not TLS.
constexpr std::size_t k_max_record = 16384 + 2048;
// Out-of-order segments held per direction; their bytes are bounded too.
constexpr std::size_t k_max_pending_segments = 256;
// TLS 1.3 NewSessionTickets follow the handshake at once; a server that has
// sent this many application records since the last one sends no more worth
// waiting for.
constexpr std::uint32_t k_records_after_ticket = 64;
// Records a key log fails to open in a row before decryption is given up:
// without the handshake secret, the few handshake records fail first.
constexpr std::uint32_t k_max_failed_records = 16;
// Buffers are bounded per direction, but thousands of connections each
// holding a full one would still take gigabytes: all of them together may
// hold this many directions' worth (64 MiB by default). Real captures
// buffer only during handshakes, a few connections at a time.
constexpr std::size_t k_budget_directions = 256;

std::uint16_t be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

bool before(const Address& a, std::uint16_t pa, const Address& b,
            std::uint16_t pb) {
  const int c = std::memcmp(a.bytes.data(), b.bytes.data(), a.bytes.size());
  return c < 0 || (c == 0 && pa < pb);
}

// Append `bytes` to `buffer`, parse whole units from it with `parse`, and
// keep the rest. When nothing is buffered, parse straight from `bytes`: the
// common case of whole records in one segment copies nothing.
template <typename Parse>
void buffered(std::vector<std::uint8_t>& buffer,
              std::span<const std::uint8_t> bytes,
              Parse parse) {
  if (buffer.empty()) {
    const std::size_t used = parse(bytes);
    if (used < bytes.size()) {
      buffer.assign(bytes.begin() + static_cast<std::ptrdiff_t>(used), bytes.end());
    }
    return;
  }
  buffer.insert(buffer.end(), bytes.begin(), bytes.end());
  // Parse from a copy of the span: parsing may end the direction and clear
  // the buffer.
  const std::size_t used = parse(std::span<const std::uint8_t>(buffer));
  if (used >= buffer.size()) {
    // Freed, not kept: what the buffer costs is its capacity.
    std::vector<std::uint8_t>().swap(buffer);
  } else if (used > 0) {
    buffer.erase(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(used));
  }
}

void release(std::vector<std::uint8_t>& v) {
  std::vector<std::uint8_t>().swap(v);
}

} // namespace

std::size_t FlowKeyHash::operator()(const FlowKey& key) const {
  // FNV-1a over the addresses and ports: cheap, and good enough for a table
  // whose size is bounded.
  std::uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](const std::uint8_t* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      h = (h ^ p[i]) * 1099511628211ULL;
    }
  };
  const std::size_t n = key.a.family == 6 ? 16 : 4;
  mix(key.a.bytes.data(), n);
  mix(key.b.bytes.data(), n);
  const std::uint8_t ports[4] = {
    static_cast<std::uint8_t>(key.port_a >> 8), static_cast<std::uint8_t>(key.port_a),
    static_cast<std::uint8_t>(key.port_b >> 8), static_cast<std::uint8_t>(key.port_b)};
  mix(ports, 4);
  return static_cast<std::size_t>(h);
}

struct ConnectionTracker::Direction {
  enum class Mode : std::uint8_t { detecting, tls, done };
  Mode mode = Mode::detecting;
  bool started = false;
  bool fin = false;
  std::uint32_t next_seq = 0;
  std::vector<std::uint8_t> records;   // the start of an incomplete record
  std::vector<std::uint8_t> handshake; // the start of an incomplete message
  std::vector<std::uint8_t> inner;     // the same, from decrypted records
  std::map<std::uint32_t, std::vector<std::uint8_t>> pending; // out of order
  std::size_t pending_bytes = 0;
};

struct ConnectionTracker::Connection {
  FlowKey key;
  std::array<Direction, 2> dir;
  int client = -1; // the direction that sent the ClientHello
  std::optional<std::string> sni;
  std::array<std::uint8_t, 32> client_random{};
  bool have_random = false;
  std::optional<std::uint16_t> version;
  std::optional<std::uint16_t> cipher;
  bool server_hello = false;
  bool tls13 = false;
  bool counted_tls = false;
  std::unique_ptr<ServerRecordDecryptor> decryptor;
  std::uint32_t failed_records = 0;
  std::uint32_t records_since_ticket = 0;
  std::uint32_t tickets = 0;
  std::size_t buffered = 0; // bytes counted in m_buffered
  CaptureTime last_seen{};
  std::list<Connection*>::iterator lru;
};

ConnectionTracker::ConnectionTracker(const CaptureOptions& options,
                                     CaptureSink& sink,
                                     CaptureStats& stats)
  : m_options(options), m_sink(sink), m_stats(stats),
    m_buffer_budget(k_budget_directions *
                    options.limits.max_buffered_per_direction) {}

ConnectionTracker::~ConnectionTracker() = default;

void ConnectionTracker::problem(std::uint64_t frame, std::string what) {
  ++m_stats.problems;
  m_sink.problem(CaptureProblem{frame, std::move(what)});
}

void ConnectionTracker::erase(Connection& c) {
  m_buffered -= c.buffered;
  m_lru.erase(c.lru);
  m_connections.erase(c.key); // destroys c
}

void ConnectionTracker::evict_idle() {
  while (!m_lru.empty() &&
         m_lru.back()->last_seen + m_options.limits.idle_timeout < m_time) {
    ++m_stats.evicted_streams;
    erase(*m_lru.back());
  }
}

void ConnectionTracker::account(Connection& c) {
  std::size_t bytes = 0;
  for (const Direction& dir : c.dir) {
    bytes += dir.records.capacity() + dir.handshake.capacity() +
             dir.inner.capacity() + dir.pending_bytes;
  }
  m_buffered = m_buffered - c.buffered + bytes;
  c.buffered = bytes;
}

void ConnectionTracker::enforce_buffer_budget() {
  // The current connection is at the front and stays: one connection's
  // buffers are far below the budget.
  while (m_buffered > m_buffer_budget && m_lru.size() > 1) {
    if (!m_reported_budget) {
      m_reported_budget = true;
      problem(m_frame, "more than " + std::to_string(m_buffer_budget) +
                         " bytes buffered across TCP connections: the least "
                         "recently active are dropped");
    }
    ++m_stats.evicted_streams;
    erase(*m_lru.back());
  }
}

ConnectionTracker::Connection* ConnectionTracker::find_or_create(
  const FlowKey& key, bool create) {
  const auto it = m_connections.find(key);
  if (it != m_connections.end()) {
    return it->second.get();
  }
  if (!create) {
    return nullptr;
  }
  if (m_connections.size() >= m_options.limits.max_streams && !m_lru.empty()) {
    if (!m_reported_full) {
      m_reported_full = true;
      problem(m_frame, "more than " + std::to_string(m_options.limits.max_streams) +
                         " TCP connections at once: the least recently "
                         "active are dropped");
    }
    ++m_stats.evicted_streams;
    erase(*m_lru.back());
  }
  auto connection = std::make_unique<Connection>();
  connection->key = key;
  Connection* c = connection.get();
  m_connections.emplace(key, std::move(connection));
  m_lru.push_front(c);
  c->lru = m_lru.begin();
  ++m_stats.tcp_streams;
  return c;
}

void ConnectionTracker::segment(const TcpSegment& s,
                                std::uint64_t frame,
                                CaptureTime time) {
  m_frame = frame;
  m_time = time;
  evict_idle();

  FlowKey key;
  int d = 0;
  if (before(s.source, s.source_port, s.destination, s.destination_port)) {
    key = {s.source, s.destination, s.source_port, s.destination_port};
  } else {
    key = {s.destination, s.source, s.destination_port, s.source_port};
    d = 1;
  }
  const bool syn = (s.flags & k_tcp_syn) != 0;
  // Pure ACKs and the FINs of connections we do not follow create nothing.
  Connection* c = find_or_create(key, syn || !s.payload.empty());
  if (c == nullptr) {
    return;
  }
  c->last_seen = time;
  if (c->lru != m_lru.begin()) {
    m_lru.splice(m_lru.begin(), m_lru, c->lru);
  }
  Direction& dir = c->dir[static_cast<std::size_t>(d)];
  if (syn) {
    // A new connection on a reused 4-tuple starts afresh.
    if (dir.started && dir.mode != Direction::Mode::detecting) {
      erase(*c);
      c = find_or_create(key, true);
    }
    Direction& fresh = c->dir[static_cast<std::size_t>(d)];
    fresh.started = true;
    fresh.next_seq = s.seq + 1;
  } else if (!s.payload.empty() && dir.mode != Direction::Mode::done) {
    if (s.truncated) {
      problem(frame, "frame cut short by the capture's snap length; this "
                     "direction of the connection is skipped");
      done(*c, d);
    } else {
      receive(*c, d, s.seq, s.payload);
    }
  }
  account(*c);
  if ((s.flags & k_tcp_rst) != 0) {
    erase(*c);
    return;
  }
  if ((s.flags & k_tcp_fin) != 0) {
    c->dir[static_cast<std::size_t>(d)].fin = true;
    if (c->dir[0].fin && c->dir[1].fin) {
      erase(*c);
      return;
    }
  }
  enforce_buffer_budget();
}

void ConnectionTracker::receive(Connection& c, int d, std::uint32_t seq,
                                Bytes payload) {
  Direction& dir = c.dir[static_cast<std::size_t>(d)];
  if (!dir.started) {
    // The capture began after the handshake of SYNs: start here.
    dir.started = true;
    dir.next_seq = seq;
  }
  auto diff = static_cast<std::int32_t>(seq - dir.next_seq);
  if (diff < 0) {
    // A retransmission, or a segment overlapping what was delivered.
    const auto seen = static_cast<std::size_t>(-static_cast<std::int64_t>(diff));
    if (seen >= payload.size()) {
      return;
    }
    payload = payload.subspan(seen);
    diff = 0;
  }
  if (diff > 0) {
    const std::size_t limit = m_options.limits.max_buffered_per_direction;
    if (dir.pending.size() >= k_max_pending_segments ||
        dir.pending_bytes + payload.size() > limit) {
      problem(m_frame, "more than " + std::to_string(limit) +
                         " bytes out of order (a gap the capture never "
                         "fills); this direction of the connection is "
                         "skipped");
      done(c, d);
      return;
    }
    auto& slot = dir.pending[seq];
    if (slot.size() < payload.size()) {
      dir.pending_bytes += payload.size() - slot.size();
      slot.assign(payload.begin(), payload.end());
    }
    return;
  }
  deliver(c, d, payload);
  dir.next_seq += static_cast<std::uint32_t>(payload.size());
  // Segments that waited for this one.
  while (!dir.pending.empty() && dir.mode != Direction::Mode::done) {
    auto next = dir.pending.end();
    for (auto it = dir.pending.begin(); it != dir.pending.end(); ++it) {
      if (static_cast<std::int32_t>(it->first - dir.next_seq) <= 0) {
        next = it;
        break;
      }
    }
    if (next == dir.pending.end()) {
      break;
    }
    std::vector<std::uint8_t> data = std::move(next->second);
    const std::uint32_t start = next->first;
    dir.pending_bytes -= data.size();
    dir.pending.erase(next);
    const auto seen = static_cast<std::uint32_t>(dir.next_seq - start);
    if (seen < data.size()) {
      deliver(c, d, Bytes(data).subspan(seen));
      dir.next_seq += static_cast<std::uint32_t>(data.size() - seen);
    }
  }
}

void ConnectionTracker::done(Connection& c, int d) {
  Direction& dir = c.dir[static_cast<std::size_t>(d)];
  dir.mode = Direction::Mode::done;
  release(dir.records);
  release(dir.handshake);
  release(dir.inner);
  dir.pending.clear();
  dir.pending_bytes = 0;
  if (d != c.client) {
    c.decryptor.reset();
  }
}

void ConnectionTracker::deliver(Connection& c, int d, Bytes bytes) {
  Direction& dir = c.dir[static_cast<std::size_t>(d)];
  if (dir.mode == Direction::Mode::done || bytes.empty()) {
    return;
  }
  if (dir.mode == Direction::Mode::detecting) {
    // TLS by content, on any port: a handshake record of version 3.x.
    dir.records.insert(dir.records.end(), bytes.begin(), bytes.end());
    if (dir.records.size() < 3) {
      return;
    }
    const auto& r = dir.records;
    if (r[0] != 22 || r[1] != 3 || r[2] > 4) {
      done(c, d);
      return;
    }
    dir.mode = Direction::Mode::tls;
    if (!c.counted_tls) {
      c.counted_tls = true;
      ++m_stats.tls_streams;
    }
    std::vector<std::uint8_t> start;
    start.swap(dir.records);
    buffered(dir.records, start, [&](Bytes data) { return records(c, d, data); });
    return;
  }
  buffered(dir.records, bytes, [&](Bytes data) { return records(c, d, data); });
}

std::size_t ConnectionTracker::records(Connection& c, int d, Bytes data) {
  const Direction& dir = c.dir[static_cast<std::size_t>(d)];
  std::size_t offset = 0;
  while (dir.mode == Direction::Mode::tls && data.size() - offset >= 5) {
    const std::uint8_t* header = &data[offset];
    const std::size_t length = be16(header + 3);
    if (header[1] != 3 || length > k_max_record) {
      problem(m_frame, header[1] != 3
                         ? std::string("bytes that are not a TLS record; this "
                                       "direction of the connection is skipped")
                         : "TLS record of " + std::to_string(length) +
                             " bytes, over the 2^14 + 2048 limit; this "
                             "direction of the connection is skipped");
      done(c, d);
      return data.size();
    }
    if (data.size() - offset < 5 + length) {
      break;
    }
    record(c, d, header[0], data.subspan(offset, 5 + length));
    offset += 5 + length;
  }
  return dir.mode == Direction::Mode::tls ? offset : data.size();
}

void ConnectionTracker::record(Connection& c, int d, std::uint8_t type,
                               Bytes record) {
  const bool server = c.client >= 0 && d != c.client;
  switch (type) {
  case 22: // handshake
    handshake_bytes(c, d, record.subspan(5), false);
    return;
  case 20: // change_cipher_spec
    // TLS 1.2: what follows is encrypted and carries no ticket. TLS 1.3
    // sends it only for middleboxes; ignore it there, and before the
    // ServerHello says which version this is.
    if (c.server_hello && !c.tls13) {
      done(c, d);
    }
    return;
  case 23: // application_data
    if (server && c.tls13 && c.decryptor) {
      encrypted_server_record(c, d, record);
    } else {
      done(c, d);
    }
    return;
  case 21: // alert
  case 24: // heartbeat
    return;
  default:
    problem(m_frame, "TLS record of unknown type " + std::to_string(type) +
                       "; this direction of the connection is skipped");
    done(c, d);
  }
}

void ConnectionTracker::handshake_bytes(Connection& c, int d, Bytes bytes,
                                        bool inner) {
  Direction& dir = c.dir[static_cast<std::size_t>(d)];
  auto& buffer = inner ? dir.inner : dir.handshake;
  buffered(buffer, bytes, [&](Bytes data) { return messages(c, d, data, inner); });
}

std::size_t ConnectionTracker::messages(Connection& c, int d, Bytes data,
                                        bool inner) {
  const Direction& dir = c.dir[static_cast<std::size_t>(d)];
  std::size_t offset = 0;
  while (dir.mode == Direction::Mode::tls && data.size() - offset >= 4) {
    const std::uint8_t* header = &data[offset];
    const std::size_t length = (std::size_t{header[1]} << 16) |
                               (std::size_t{header[2]} << 8) | header[3];
    if (length > m_options.limits.max_buffered_per_direction) {
      problem(m_frame, "handshake message of " + std::to_string(length) +
                         " bytes, over the " +
                         std::to_string(m_options.limits.max_buffered_per_direction) +
                         "-byte limit; this direction of the connection is "
                         "skipped");
      done(c, d);
      return data.size();
    }
    if (data.size() - offset < 4 + length) {
      break;
    }
    message(c, d, header[0], data.subspan(offset + 4, length), inner);
    offset += 4 + length;
  }
  return dir.mode == Direction::Mode::tls ? offset : data.size();
}

void ConnectionTracker::message(Connection& c, int d, std::uint8_t type,
                                Bytes body, bool inner) {
  if (type == k_client_hello && !inner) {
    auto hello = parse_client_hello(body);
    if (!hello) {
      problem(m_frame, hello.error().message);
      return;
    }
    c.client = d;
    c.sni = hello->server_name;
    c.client_random = hello->random;
    c.have_random = true;
    if (!hello->session_ticket.empty()) {
      emit(c, d, MessageKind::client_hello_session_ticket, 0,
           hello->session_ticket);
    }
    std::uint32_t index = 0;
    for (const auto identity : hello->psk_identities) {
      emit(c, d, MessageKind::client_hello_psk_identity, index++, identity);
    }
    return;
  }
  if (type == k_server_hello && !inner) {
    auto hello = parse_server_hello(body);
    if (!hello) {
      problem(m_frame, hello.error().message);
      return;
    }
    if (c.client < 0) {
      c.client = 1 - d;
    }
    if (hello->hello_retry_request) {
      return; // a second ClientHello follows
    }
    c.server_hello = true;
    c.version = hello->version;
    c.cipher = hello->cipher_suite;
    c.tls13 = hello->version == 0x0304;
    if (c.tls13 && m_options.decryptors != nullptr && c.have_random) {
      c.decryptor = m_options.decryptors->for_connection(c.client_random,
                                                         hello->cipher_suite);
    }
    return;
  }
  if (type == k_new_session_ticket) {
    auto ticket = parse_new_session_ticket(body, inner || c.tls13);
    if (!ticket) {
      problem(m_frame, ticket.error().message);
      return;
    }
    c.records_since_ticket = 0;
    if (ticket->ticket.empty()) {
      return; // a TLS 1.2 server that decided not to issue one
    }
    const std::uint32_t index = c.tickets++;
    emit(c, d, MessageKind::new_session_ticket, index, ticket->ticket,
         ticket->lifetime);
    return;
  }
}

void ConnectionTracker::encrypted_server_record(Connection& c, int d,
                                                Bytes record) {
  auto inner = c.decryptor->open(record);
  if (!inner) {
    if (++c.failed_records >= k_max_failed_records) {
      problem(m_frame, "the key log's secrets do not open this connection's "
                       "TLS 1.3 records; its NewSessionTickets are not read");
      done(c, d);
    }
    return;
  }
  c.failed_records = 0;
  ++m_stats.decrypted_records;
  if (inner->content_type == 22) {
    handshake_bytes(c, d, inner->plaintext, true);
    return;
  }
  if (inner->content_type == 23 &&
      ++c.records_since_ticket > k_records_after_ticket) {
    done(c, d);
  }
}

void ConnectionTracker::emit(Connection& c, int d, MessageKind kind,
                             std::uint32_t index, Bytes ticket,
                             std::optional<std::uint32_t> lifetime) {
  Sighting s;
  s.input = m_options.input_name;
  CaptureOrigin origin;
  origin.frame = m_frame;
  origin.time = m_time;
  const bool from_a = d == 0;
  origin.source = {address_text(from_a ? c.key.a : c.key.b),
                   from_a ? c.key.port_a : c.key.port_b};
  origin.destination = {address_text(from_a ? c.key.b : c.key.a),
                        from_a ? c.key.port_b : c.key.port_a};
  s.capture = std::move(origin);
  s.kind = kind;
  s.index = index;
  s.sni = c.sni;
  s.cipher_suite = c.cipher;
  switch (kind) {
  case MessageKind::client_hello_session_ticket:
    s.tls_version = 0x0303;
    s.cipher_suite.reset();
    break;
  case MessageKind::client_hello_psk_identity:
    s.tls_version = 0x0304;
    s.cipher_suite.reset();
    break;
  default:
    s.tls_version = c.version ? c.version : std::optional<std::uint16_t>(0x0303);
    s.decrypted_with_keylog = c.tls13;
    break;
  }
  s.lifetime_hint = lifetime;
  s.ticket.assign(ticket.begin(), ticket.end());
  ++m_stats.sightings;
  m_sink.sighting(std::move(s));
}

} // namespace stek::inspect::pcap
