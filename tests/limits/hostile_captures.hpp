// SPDX-License-Identifier: Apache-2.0
#pragma once

// Captures whose length fields lie, written straight to a file so that even
// the large ones cost the test no memory: TCP connections of raw IPv4
// frames built with tests/inspect/pcap/capture_builder.hpp.

#include "inspect/pcap/capture_builder.hpp"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace stek::test::limits {

namespace cap = stek::test::capture;

// A pcap file (microseconds, little-endian, raw IP) written frame by frame.
class PcapWriter {
public:
  explicit PcapWriter(const std::filesystem::path& path)
    : m_out(path, std::ios::binary | std::ios::trunc) {
    cap::Bytes header;
    cap::put32le(header, 0xa1b2c3d4);
    cap::put16le(header, 2);
    cap::put16le(header, 4);
    cap::put32le(header, 0);
    cap::put32le(header, 0);
    cap::put32le(header, 262144);
    cap::put32le(header, 101); // LINKTYPE_RAW
    write(header);
  }

  // Write a record header claiming `length` captured bytes, and nothing else.
  void record_header(std::uint32_t length) {
    cap::Bytes header;
    cap::put32le(header, m_seconds);
    cap::put32le(header, 0);
    cap::put32le(header, length);
    cap::put32le(header, length);
    write(header);
  }

  void frame(const cap::Bytes& ip) {
    record_header(static_cast<std::uint32_t>(ip.size()));
    write(ip);
  }

  void write(const cap::Bytes& bytes) {
    m_out.write(reinterpret_cast<const char*>(bytes.data()),
                static_cast<std::streamsize>(bytes.size()));
  }

private:
  std::ofstream m_out;
  std::uint32_t m_seconds = 1764374400;
};

// One TCP connection's client side: a SYN, then payload in segments.
class ClientStream {
public:
  ClientStream(PcapWriter& out, std::uint16_t port) : m_out(out) {
    m_flow.client_port = port;
    m_out.frame(cap::tcp_packet(m_flow, true, m_seq++, 0x02, {}));
  }

  void send(const cap::Bytes& payload) {
    constexpr std::size_t k_segment = 32 * 1024;
    for (std::size_t at = 0; at < payload.size(); at += k_segment) {
      const auto end = std::min(payload.size(), at + k_segment);
      const cap::Bytes part(payload.begin() + static_cast<std::ptrdiff_t>(at),
                            payload.begin() + static_cast<std::ptrdiff_t>(end));
      m_out.frame(cap::tcp_packet(m_flow, true, m_seq, 0x18, part));
      m_seq += static_cast<std::uint32_t>(part.size());
    }
  }

private:
  PcapWriter& m_out;
  cap::Flow m_flow;
  std::uint32_t m_seq = 1000;
};

// TLS handshake records carrying `bytes`, 2^14 bytes at most each.
inline cap::Bytes handshake_records(const cap::Bytes& bytes) {
  cap::Bytes out;
  for (std::size_t at = 0; at < bytes.size(); at += 16384) {
    const auto end = std::min(bytes.size(), at + 16384);
    cap::append(out, cap::record(22, cap::Bytes(
                                       bytes.begin() + static_cast<std::ptrdiff_t>(at),
                                       bytes.begin() + static_cast<std::ptrdiff_t>(end))));
  }
  return out;
}

// The bytes a ClientHello resuming a TLS 1.2 session carries as its ticket.
inline cap::Bytes resumed_ticket() { return cap::filled(160, 0x5a); }

// A connection whose ClientHello presents resumed_ticket(): the traffic
// after the hostile part, which must still be read.
inline void resuming_connection(PcapWriter& out, std::uint16_t port) {
  ClientStream c(out, port);
  cap::HelloOptions hello;
  hello.session_ticket = resumed_ticket();
  c.send(cap::record(22, cap::client_hello(hello)));
}

} // namespace stek::test::limits
