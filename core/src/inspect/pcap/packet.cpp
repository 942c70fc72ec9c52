// SPDX-License-Identifier: Apache-2.0
#include "packet.hpp"

#include <arpa/inet.h>
#include <pcap/dlt.h>

#include <cstring>

namespace stek::inspect::pcap {
namespace {

using Frame = std::span<const std::uint8_t>;

std::uint16_t be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
         (std::uint32_t{p[2]} << 8) | p[3];
}

constexpr std::uint16_t k_ethertype_ipv4 = 0x0800;
constexpr std::uint16_t k_ethertype_ipv6 = 0x86DD;
constexpr std::uint8_t k_ip_tcp = 6;

DecodeOutcome decode_tcp(Frame data, bool truncated, TcpSegment& s,
                         const char*& why) {
  if (data.size() < 20) {
    why = "TCP header truncated";
    return DecodeOutcome::malformed;
  }
  const std::size_t header = static_cast<std::size_t>(data[12] >> 4) * 4;
  if (header < 20 || header > data.size()) {
    why = "bad TCP data offset";
    return DecodeOutcome::malformed;
  }
  s.source_port = be16(&data[0]);
  s.destination_port = be16(&data[2]);
  s.seq = be32(&data[4]);
  s.flags = data[13];
  s.payload = data.subspan(header);
  s.truncated = truncated;
  return DecodeOutcome::tcp;
}

DecodeOutcome decode_ipv4(Frame data, TcpSegment& s, const char*& why) {
  if (data.size() < 20 || (data[0] >> 4) != 4) {
    why = "IPv4 header truncated";
    return DecodeOutcome::malformed;
  }
  const std::size_t header = static_cast<std::size_t>(data[0] & 0x0f) * 4;
  std::size_t total = be16(&data[2]);
  if (total == 0) {
    // Captured on the sending host before TCP segmentation offload split
    // the segment: the stack leaves the length to the NIC. Take the frame.
    total = data.size();
  }
  if (header < 20 || total < header) {
    why = "bad IPv4 header or total length";
    return DecodeOutcome::malformed;
  }
  if (data[9] != k_ip_tcp) {
    return DecodeOutcome::not_tcp;
  }
  const std::uint16_t fragment = be16(&data[6]);
  if ((fragment & 0x3fff) != 0) { // more-fragments flag or an offset
    return DecodeOutcome::ip_fragment;
  }
  // Ethernet pads short frames: trust the IP length, not the frame's.
  bool truncated = false;
  std::size_t end = total;
  if (end > data.size()) {
    end = data.size();
    truncated = true;
  }
  if (header > end) {
    why = "IPv4 header truncated";
    return DecodeOutcome::malformed;
  }
  s.source.family = 4;
  s.destination.family = 4;
  s.source.bytes = {};
  s.destination.bytes = {};
  std::memcpy(s.source.bytes.data(), &data[12], 4);
  std::memcpy(s.destination.bytes.data(), &data[16], 4);
  return decode_tcp(data.subspan(header, end - header), truncated, s, why);
}

DecodeOutcome decode_ipv6(Frame data, TcpSegment& s, const char*& why) {
  if (data.size() < 40 || (data[0] >> 4) != 6) {
    why = "IPv6 header truncated";
    return DecodeOutcome::malformed;
  }
  const std::size_t payload_length = be16(&data[4]);
  std::uint8_t next = data[6];
  s.source.family = 6;
  s.destination.family = 6;
  std::memcpy(s.source.bytes.data(), &data[8], 16);
  std::memcpy(s.destination.bytes.data(), &data[24], 16);
  bool truncated = false;
  std::size_t end = 40 + payload_length;
  if (payload_length == 0) {
    end = data.size(); // a jumbogram; take what was captured
  } else if (end > data.size()) {
    end = data.size();
    truncated = true;
  }
  std::size_t offset = 40;
  // Walk the extension headers; a handful at most in real traffic, and a
  // bound keeps a crafted chain from looping long.
  for (int hops = 0; hops < 16; ++hops) {
    switch (next) {
    case k_ip_tcp:
      return decode_tcp(data.subspan(offset, end - offset), truncated, s, why);
    case 0:  // hop-by-hop options
    case 43: // routing
    case 60: // destination options
    case 51: { // authentication header: length in 4-byte units, minus 2
      if (offset + 2 > end) {
        why = "IPv6 extension header truncated";
        return DecodeOutcome::malformed;
      }
      const std::size_t length =
        next == 51 ? (static_cast<std::size_t>(data[offset + 1]) + 2) * 4
                   : (static_cast<std::size_t>(data[offset + 1]) + 1) * 8;
      next = data[offset];
      offset += length;
      if (offset > end) {
        why = "IPv6 extension header truncated";
        return DecodeOutcome::malformed;
      }
      break;
    }
    case 44: { // fragment
      if (offset + 8 > end) {
        why = "IPv6 fragment header truncated";
        return DecodeOutcome::malformed;
      }
      if ((be16(&data[offset + 2]) & 0xfff9) != 0) {
        return DecodeOutcome::ip_fragment;
      }
      next = data[offset];
      offset += 8;
      break;
    }
    default:
      return DecodeOutcome::not_tcp;
    }
  }
  return DecodeOutcome::not_tcp;
}

DecodeOutcome decode_ethertype(std::uint16_t type, Frame data, TcpSegment& s,
                               const char*& why) {
  if (type == k_ethertype_ipv4) return decode_ipv4(data, s, why);
  if (type == k_ethertype_ipv6) return decode_ipv6(data, s, why);
  return DecodeOutcome::not_tcp;
}

DecodeOutcome decode_by_version(Frame data, TcpSegment& s, const char*& why) {
  if (data.empty()) {
    why = "empty packet";
    return DecodeOutcome::malformed;
  }
  switch (data[0] >> 4) {
  case 4: return decode_ipv4(data, s, why);
  case 6: return decode_ipv6(data, s, why);
  default: return DecodeOutcome::not_tcp;
  }
}

} // namespace

bool link_type_for(int dlt, LinkType& out) {
  switch (dlt) {
  case DLT_EN10MB: out = LinkType::ethernet; return true;
  case DLT_LINUX_SLL: out = LinkType::linux_sll; return true;
  case DLT_LINUX_SLL2: out = LinkType::linux_sll2; return true;
  case DLT_RAW: // 12 here; libpcap maps LINKTYPE_RAW (101) in files to it
  case 14:      // DLT_RAW's value on OpenBSD
    out = LinkType::raw_ip;
    return true;
  case DLT_IPV4: out = LinkType::ipv4; return true;
  case DLT_IPV6: out = LinkType::ipv6; return true;
  case DLT_NULL: out = LinkType::null_loopback; return true;
  case DLT_LOOP: out = LinkType::openbsd_loopback; return true;
  default: return false;
  }
}

std::string address_text(const Address& address) {
  char text[INET6_ADDRSTRLEN] = {};
  const int family = address.family == 6 ? AF_INET6 : AF_INET;
  if (inet_ntop(family, address.bytes.data(), text, sizeof text) == nullptr) {
    return "?";
  }
  return text;
}

DecodeOutcome decode_frame(LinkType link, Frame frame, TcpSegment& s,
                           const char*& why) {
  switch (link) {
  case LinkType::ethernet: {
    if (frame.size() < 14) {
      why = "Ethernet header truncated";
      return DecodeOutcome::malformed;
    }
    std::size_t offset = 12;
    std::uint16_t type = be16(&frame[offset]);
    // 802.1Q and 802.1ad tags, stacked at most twice in practice.
    for (int tags = 0; tags < 2 && (type == 0x8100 || type == 0x88a8); ++tags) {
      offset += 4;
      if (offset + 2 > frame.size()) {
        why = "VLAN tag truncated";
        return DecodeOutcome::malformed;
      }
      type = be16(&frame[offset]);
    }
    return decode_ethertype(type, frame.subspan(offset + 2), s, why);
  }
  case LinkType::linux_sll:
    if (frame.size() < 16) {
      why = "Linux cooked header truncated";
      return DecodeOutcome::malformed;
    }
    return decode_ethertype(be16(&frame[14]), frame.subspan(16), s, why);
  case LinkType::linux_sll2:
    if (frame.size() < 20) {
      why = "Linux cooked v2 header truncated";
      return DecodeOutcome::malformed;
    }
    return decode_ethertype(be16(&frame[0]), frame.subspan(20), s, why);
  case LinkType::raw_ip: return decode_by_version(frame, s, why);
  case LinkType::ipv4: return decode_ipv4(frame, s, why);
  case LinkType::ipv6: return decode_ipv6(frame, s, why);
  case LinkType::null_loopback:
  case LinkType::openbsd_loopback:
    // A 4-byte address family, in the byte order of the machine that
    // captured (DLT_NULL) or in network order (DLT_LOOP); the IP version
    // nibble says the same and does not depend on either.
    if (frame.size() < 4) {
      why = "loopback header truncated";
      return DecodeOutcome::malformed;
    }
    return decode_by_version(frame.subspan(4), s, why);
  }
  return DecodeOutcome::not_tcp;
}

} // namespace stek::inspect::pcap
