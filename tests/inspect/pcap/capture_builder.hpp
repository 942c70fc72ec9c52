// SPDX-License-Identifier: Apache-2.0
#pragma once

// Captures built byte by byte for the capture reader's tests: pcap and
// pcapng files, frames of each link type, IPv4 and IPv6, TCP segments, and
// the TLS records and handshake messages inside.

#include <cstdint>
#include <string>
#include <vector>

namespace stek::test::capture {

using Bytes = std::vector<std::uint8_t>;

inline void put16(Bytes& out, std::uint32_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
inline void put24(Bytes& out, std::uint32_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 16));
  put16(out, v);
}
inline void put32(Bytes& out, std::uint32_t v) {
  put16(out, v >> 16);
  put16(out, v);
}
inline void put32le(Bytes& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
}
inline void put16le(Bytes& out, std::uint32_t v) {
  out.push_back(static_cast<std::uint8_t>(v));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
}
inline void append(Bytes& out, const Bytes& more) {
  out.insert(out.end(), more.begin(), more.end());
}
inline Bytes filled(std::size_t n, std::uint8_t byte) { return Bytes(n, byte); }

// ---- TLS ----

inline Bytes record(std::uint8_t type, const Bytes& body) {
  Bytes out{type, 3, 3};
  put16(out, static_cast<std::uint32_t>(body.size()));
  append(out, body);
  return out;
}

inline Bytes message(std::uint8_t type, const Bytes& body) {
  Bytes out{type};
  put24(out, static_cast<std::uint32_t>(body.size()));
  append(out, body);
  return out;
}

inline Bytes extension(std::uint16_t type, const Bytes& data) {
  Bytes out;
  put16(out, type);
  put16(out, static_cast<std::uint32_t>(data.size()));
  append(out, data);
  return out;
}

struct HelloOptions {
  std::string sni = "a.example";
  bool session_ticket_extension = true;
  Bytes session_ticket;            // extension 35's data
  std::vector<Bytes> psk_identities; // extension 41
  std::uint8_t random_byte = 0x11;
};

inline Bytes client_hello(const HelloOptions& o) {
  Bytes body;
  put16(body, 0x0303);
  append(body, filled(32, o.random_byte));
  body.push_back(0); // session id
  put16(body, 4);
  put16(body, 0x1301);
  put16(body, 0xc02f);
  body.push_back(1);
  body.push_back(0);
  Bytes extensions;
  if (!o.sni.empty()) {
    Bytes name{0};
    put16(name, static_cast<std::uint32_t>(o.sni.size()));
    name.insert(name.end(), o.sni.begin(), o.sni.end());
    Bytes list;
    put16(list, static_cast<std::uint32_t>(name.size()));
    append(list, name);
    append(extensions, extension(0, list));
  }
  if (o.session_ticket_extension) {
    append(extensions, extension(35, o.session_ticket));
  }
  if (!o.psk_identities.empty()) {
    Bytes ids;
    for (const auto& id : o.psk_identities) {
      put16(ids, static_cast<std::uint32_t>(id.size()));
      append(ids, id);
      put32(ids, 1234);
    }
    Bytes psk;
    put16(psk, static_cast<std::uint32_t>(ids.size()));
    append(psk, ids);
    Bytes binders{0, 33, 32};
    append(binders, filled(32, 0xbb));
    append(psk, binders);
    append(extensions, extension(41, psk));
  }
  put16(body, static_cast<std::uint32_t>(extensions.size()));
  append(body, extensions);
  return message(1, body);
}

inline Bytes server_hello(std::uint16_t version, std::uint16_t suite,
                          bool hello_retry = false) {
  static const std::uint8_t k_hrr[32] = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C,
    0x02, 0x1E, 0x65, 0xB8, 0x91, 0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB,
    0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};
  Bytes body;
  put16(body, 0x0303);
  if (hello_retry) {
    // Byte by byte: GCC 12 at -O2 reports a false -Warray-bounds for
    // vector::insert of this array.
    for (const auto b : k_hrr) {
      body.push_back(b);
    }
  } else {
    append(body, filled(32, 0x22));
  }
  body.push_back(0);
  put16(body, suite);
  body.push_back(0);
  Bytes extensions;
  if (version == 0x0304) {
    Bytes v;
    put16(v, 0x0304);
    append(extensions, extension(43, v));
  }
  put16(body, static_cast<std::uint32_t>(extensions.size()));
  append(body, extensions);
  return message(2, body);
}

inline Bytes new_session_ticket12(std::uint32_t lifetime, const Bytes& ticket) {
  Bytes body;
  put32(body, lifetime);
  put16(body, static_cast<std::uint32_t>(ticket.size()));
  append(body, ticket);
  return message(4, body);
}

inline Bytes new_session_ticket13(std::uint32_t lifetime, const Bytes& ticket) {
  Bytes body;
  put32(body, lifetime);
  put32(body, 0x01020304);
  body.push_back(8);
  append(body, filled(8, 0));
  put16(body, static_cast<std::uint32_t>(ticket.size()));
  append(body, ticket);
  put16(body, 0);
  return message(4, body);
}

// ---- frames ----

enum class Link { ethernet, ethernet_vlan, sll, sll2, raw, null_le, loop };

inline int dlt_of(Link link) {
  switch (link) {
  case Link::ethernet:
  case Link::ethernet_vlan: return 1;
  case Link::sll: return 113;
  case Link::sll2: return 276;
  case Link::raw: return 101;
  case Link::null_le: return 0;
  case Link::loop: return 108;
  }
  return 1;
}

struct Flow {
  bool ipv6 = false;
  std::uint8_t client_host = 1; // last byte of the address
  std::uint8_t server_host = 2;
  std::uint16_t client_port = 50000;
  std::uint16_t server_port = 8443;
};

inline Bytes tcp_packet(const Flow& f, bool from_client, std::uint32_t seq,
                        std::uint8_t flags, const Bytes& payload,
                        bool hop_by_hop = false) {
  Bytes tcp;
  put16(tcp, from_client ? f.client_port : f.server_port);
  put16(tcp, from_client ? f.server_port : f.client_port);
  put32(tcp, seq);
  put32(tcp, 0);
  tcp.push_back(0x50);
  tcp.push_back(flags);
  put16(tcp, 65535);
  put16(tcp, 0); // checksum: never checked (loopback captures have bad ones)
  put16(tcp, 0);
  append(tcp, payload);
  const std::uint8_t src = from_client ? f.client_host : f.server_host;
  const std::uint8_t dst = from_client ? f.server_host : f.client_host;
  Bytes ip;
  if (!f.ipv6) {
    ip = {0x45, 0};
    put16(ip, static_cast<std::uint32_t>(20 + tcp.size()));
    put32(ip, 0x00004000); // don't fragment
    ip.push_back(64);
    ip.push_back(6);
    put16(ip, 0);
    Bytes a{10, 0, 0, src}, b{10, 0, 0, dst};
    append(ip, a);
    append(ip, b);
  } else {
    ip = {0x60, 0, 0, 0};
    const std::size_t extra = hop_by_hop ? 8 : 0;
    put16(ip, static_cast<std::uint32_t>(tcp.size() + extra));
    ip.push_back(hop_by_hop ? 0 : 6);
    ip.push_back(64);
    Bytes a(16, 0), b(16, 0);
    a[0] = 0xfd;
    b[0] = 0xfd;
    a[15] = src;
    b[15] = dst;
    append(ip, a);
    append(ip, b);
    if (hop_by_hop) {
      Bytes h{6, 0, 1, 4, 0, 0, 0, 0}; // next TCP, PadN option
      append(ip, h);
    }
  }
  append(ip, tcp);
  return ip;
}

inline Bytes frame(Link link, const Bytes& ip, bool ipv6) {
  Bytes out;
  const std::uint16_t ethertype = ipv6 ? 0x86DD : 0x0800;
  switch (link) {
  case Link::ethernet:
    append(out, filled(12, 0xaa));
    put16(out, ethertype);
    break;
  case Link::ethernet_vlan:
    append(out, filled(12, 0xaa));
    put16(out, 0x8100);
    put16(out, 42);
    put16(out, ethertype);
    break;
  case Link::sll:
    put16(out, 0);
    put16(out, 772);
    put16(out, 0);
    append(out, filled(8, 0));
    put16(out, ethertype);
    break;
  case Link::sll2:
    put16(out, ethertype);
    put16(out, 0);
    put32(out, 1);
    put16(out, 772);
    out.push_back(0);
    out.push_back(0);
    append(out, filled(8, 0));
    break;
  case Link::raw:
    break;
  case Link::null_le:
    put32le(out, ipv6 ? 30 : 2);
    break;
  case Link::loop:
    put32(out, ipv6 ? 30 : 2);
    break;
  }
  append(out, ip);
  // Ethernet pads frames to 60 bytes; the reader must trust IP's length.
  if ((link == Link::ethernet || link == Link::ethernet_vlan) && out.size() < 60) {
    out.resize(60, 0);
  }
  return out;
}

struct Packet {
  Bytes frame;
  std::uint32_t seconds = 1764374400; // 2025-11-29T00:00:00Z
  std::uint32_t micros = 0;
  std::uint32_t original_length = 0; // 0: the frame's own
  std::uint64_t pcapng_time = 0;      // raw 64-bit microseconds; 0: computed
};

inline Bytes pcap_file(int dlt, const std::vector<Packet>& packets) {
  Bytes out;
  put32le(out, 0xa1b2c3d4);
  put16le(out, 2);
  put16le(out, 4);
  put32le(out, 0);
  put32le(out, 0);
  put32le(out, 262144);
  put32le(out, static_cast<std::uint32_t>(dlt));
  for (const auto& p : packets) {
    put32le(out, p.seconds);
    put32le(out, p.micros);
    put32le(out, static_cast<std::uint32_t>(p.frame.size()));
    put32le(out, p.original_length ? p.original_length
                                   : static_cast<std::uint32_t>(p.frame.size()));
    append(out, p.frame);
  }
  return out;
}

inline Bytes pcapng_file(int dlt, const std::vector<Packet>& packets) {
  Bytes out;
  auto block = [&out](std::uint32_t type, const Bytes& body) {
    Bytes padded = body;
    while (padded.size() % 4 != 0) {
      padded.push_back(0);
    }
    const auto total = static_cast<std::uint32_t>(padded.size() + 12);
    put32le(out, type);
    put32le(out, total);
    append(out, padded);
    put32le(out, total);
  };
  Bytes shb;
  put32le(shb, 0x1a2b3c4d);
  put16le(shb, 1);
  put16le(shb, 0);
  put32le(shb, 0xffffffff);
  put32le(shb, 0xffffffff);
  block(0x0a0d0d0a, shb);
  Bytes idb;
  put16le(idb, static_cast<std::uint32_t>(dlt));
  put16le(idb, 0);
  put32le(idb, 262144);
  block(1, idb);
  for (const auto& p : packets) {
    Bytes epb;
    put32le(epb, 0);
    const std::uint64_t t = p.pcapng_time != 0
                              ? p.pcapng_time
                              : std::uint64_t{p.seconds} * 1000000 + p.micros;
    put32le(epb, static_cast<std::uint32_t>(t >> 32));
    put32le(epb, static_cast<std::uint32_t>(t));
    put32le(epb, static_cast<std::uint32_t>(p.frame.size()));
    put32le(epb, static_cast<std::uint32_t>(p.frame.size()));
    append(epb, p.frame);
    block(6, epb);
  }
  return out;
}

} // namespace stek::test::capture
