// SPDX-License-Identifier: Apache-2.0
// From a captured frame to the TCP segment inside: link layer, IPv4 or
// IPv6 (with extension headers), TCP. Nothing is copied; the segment points
// into the frame.
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <string>

namespace stek::inspect::pcap {

// The link types whose frames we can take apart (libpcap DLT_ values).
enum class LinkType { ethernet, linux_sll, linux_sll2, raw_ip, ipv4, ipv6,
                      null_loopback, openbsd_loopback };

// Return the link type for a libpcap DLT value, or false if unsupported.
bool link_type_for(int dlt, LinkType& out);

struct Address {
  std::uint8_t family = 0; // 4 or 6
  std::array<std::uint8_t, 16> bytes{};
  bool operator==(const Address&) const = default;
};

// Return "127.0.0.1" or "::1" style text.
std::string address_text(const Address& address);

struct TcpSegment {
  Address source;
  Address destination;
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
  std::uint32_t seq = 0;
  std::uint8_t flags = 0;
  std::span<const std::uint8_t> payload;
  // The frame was cut short by the capture's snap length: payload holds
  // less than the segment carried.
  bool truncated = false;
};

inline constexpr std::uint8_t k_tcp_fin = 0x01;
inline constexpr std::uint8_t k_tcp_syn = 0x02;
inline constexpr std::uint8_t k_tcp_rst = 0x04;

enum class DecodeOutcome {
  tcp,          // `segment` is filled in
  not_tcp,      // another protocol: skipped silently
  ip_fragment,  // a fragment of a larger datagram: skipped
  malformed,    // lengths do not add up: `why` says where
};

// Take `frame` (as captured, `caplen` bytes) apart.
DecodeOutcome decode_frame(LinkType link,
                           std::span<const std::uint8_t> frame,
                           TcpSegment& segment,
                           const char*& why);

} // namespace stek::inspect::pcap
