// SPDX-License-Identifier: Apache-2.0
#include "tls_handshake.hpp"

namespace stek::inspect::pcap {
namespace {

// A bounds-checked cursor: every read fails instead of running past the end.
class Cursor {
public:
  explicit Cursor(Bytes data) : m_data(data) {}

  bool u8(std::uint8_t& out) {
    if (m_data.size() < 1) return false;
    out = m_data[0];
    m_data = m_data.subspan(1);
    return true;
  }
  bool u16(std::uint16_t& out) {
    if (m_data.size() < 2) return false;
    out = static_cast<std::uint16_t>((m_data[0] << 8) | m_data[1]);
    m_data = m_data.subspan(2);
    return true;
  }
  bool u32(std::uint32_t& out) {
    if (m_data.size() < 4) return false;
    out = (std::uint32_t{m_data[0]} << 24) | (std::uint32_t{m_data[1]} << 16) |
          (std::uint32_t{m_data[2]} << 8) | m_data[3];
    m_data = m_data.subspan(4);
    return true;
  }
  bool bytes(std::size_t n, Bytes& out) {
    if (m_data.size() < n) return false;
    out = m_data.first(n);
    m_data = m_data.subspan(n);
    return true;
  }
  bool vector8(Bytes& out) {
    std::uint8_t n = 0;
    return u8(n) && bytes(n, out);
  }
  bool vector16(Bytes& out) {
    std::uint16_t n = 0;
    return u16(n) && bytes(n, out);
  }
  bool empty() const { return m_data.empty(); }

private:
  Bytes m_data;
};

Error bad(const char* what) { return fail(Errc::parse, what); }

// RFC 6066 section 3: a list of (type, name<u16>); type 0 is a host name.
std::optional<std::string> host_name(Bytes extension) {
  Cursor c(extension);
  Bytes list;
  if (!c.vector16(list)) return std::nullopt;
  Cursor names(list);
  while (!names.empty()) {
    std::uint8_t type = 0;
    Bytes name;
    if (!names.u8(type) || !names.vector16(name)) return std::nullopt;
    if (type == 0 && !name.empty()) {
      return std::string(name.begin(), name.end());
    }
  }
  return std::nullopt;
}

// RFC 8446 section 4.2.11: identities<u16> of (identity<u16>, age u32).
bool psk_identities(Bytes extension, std::vector<Bytes>& out) {
  Cursor c(extension);
  Bytes list;
  if (!c.vector16(list)) return false;
  Cursor ids(list);
  while (!ids.empty()) {
    Bytes identity;
    std::uint32_t age = 0;
    if (!ids.vector16(identity) || !ids.u32(age)) return false;
    if (!identity.empty()) out.push_back(identity);
  }
  return true;
}

// The ServerHello.random of a HelloRetryRequest (RFC 8446 section 4.1.3).
constexpr std::array<std::uint8_t, 32> k_hello_retry_random = {
  0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C,
  0x02, 0x1E, 0x65, 0xB8, 0x91, 0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB,
  0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};

} // namespace

Result<ClientHelloInfo> parse_client_hello(Bytes body) {
  Cursor c(body);
  ClientHelloInfo info;
  std::uint16_t version = 0;
  Bytes random, session_id, suites, compression;
  if (!c.u16(version) || !c.bytes(32, random)) {
    return bad("ClientHello: truncated before random");
  }
  std::copy(random.begin(), random.end(), info.random.begin());
  if (!c.vector8(session_id) || !c.vector16(suites) || !c.vector8(compression)) {
    return bad("ClientHello: truncated cipher suites or compression");
  }
  if (c.empty()) {
    return info; // no extensions at all (SSL 3 style)
  }
  Bytes extensions;
  if (!c.vector16(extensions)) {
    return bad("ClientHello: bad extensions length");
  }
  Cursor e(extensions);
  while (!e.empty()) {
    std::uint16_t type = 0;
    Bytes data;
    if (!e.u16(type) || !e.vector16(data)) {
      return bad("ClientHello: truncated extension");
    }
    switch (type) {
    case 0:
      info.server_name = host_name(data);
      break;
    case 35:
      info.session_ticket = data;
      break;
    case 41:
      if (!psk_identities(data, info.psk_identities)) {
        return bad("ClientHello: malformed pre_shared_key extension");
      }
      break;
    default:
      break;
    }
  }
  return info;
}

Result<ServerHelloInfo> parse_server_hello(Bytes body) {
  Cursor c(body);
  ServerHelloInfo info;
  Bytes random, session_id;
  std::uint8_t compression = 0;
  if (!c.u16(info.version) || !c.bytes(32, random) || !c.vector8(session_id) ||
      !c.u16(info.cipher_suite) || !c.u8(compression)) {
    return bad("ServerHello: truncated");
  }
  info.hello_retry_request =
    std::equal(random.begin(), random.end(), k_hello_retry_random.begin());
  if (c.empty()) {
    return info;
  }
  Bytes extensions;
  if (!c.vector16(extensions)) {
    return bad("ServerHello: bad extensions length");
  }
  Cursor e(extensions);
  while (!e.empty()) {
    std::uint16_t type = 0;
    Bytes data;
    if (!e.u16(type) || !e.vector16(data)) {
      return bad("ServerHello: truncated extension");
    }
    if (type == 43) { // supported_versions: the version chosen
      Cursor v(data);
      if (!v.u16(info.version)) {
        return bad("ServerHello: bad supported_versions");
      }
    }
  }
  return info;
}

Result<NewSessionTicketInfo> parse_new_session_ticket(Bytes body, bool tls13) {
  Cursor c(body);
  NewSessionTicketInfo info;
  if (!c.u32(info.lifetime)) {
    return bad("NewSessionTicket: truncated lifetime");
  }
  if (tls13) {
    std::uint32_t age_add = 0;
    Bytes nonce;
    if (!c.u32(age_add) || !c.vector8(nonce)) {
      return bad("NewSessionTicket: truncated age_add or nonce");
    }
  }
  if (!c.vector16(info.ticket)) {
    return bad("NewSessionTicket: truncated ticket");
  }
  if (tls13) {
    Bytes extensions;
    if (!c.vector16(extensions)) {
      return bad("NewSessionTicket: truncated extensions");
    }
  }
  return info;
}

} // namespace stek::inspect::pcap
