// SPDX-License-Identifier: Apache-2.0
// read_capture: libpcap reads the file (pcap in either byte order and
// timestamp precision, and pcapng), we take the frames apart.
#include "connection_tracker.hpp"
#include "packet.hpp"

#include <stek/inspect/capture.hpp>

#include <pcap/pcap.h>

#include <cstring>
#include <memory>

namespace stek::inspect {
namespace {

// pcap_close() closes the FILE it was given, and the caller owns `file`:
// hand libpcap a stream of its own that reads through to the caller's.
ssize_t read_through(void* cookie, char* buffer, std::size_t size) {
  auto* file = static_cast<std::FILE*>(cookie);
  const std::size_t n = std::fread(buffer, 1, size, file);
  if (n == 0 && std::ferror(file)) {
    return -1;
  }
  return static_cast<ssize_t>(n);
}

int keep_open(void*) { return 0; }

// 9999-12-31T23:59:59Z, the last instant stekctl prints.
constexpr long long k_last_second = 253402300799;

struct PcapCloser {
  void operator()(pcap_t* p) const { pcap_close(p); }
};

} // namespace

bool looks_like_capture(std::span<const std::uint8_t> head) {
  if (head.size() < 4) {
    return false;
  }
  const std::uint32_t magic = (std::uint32_t{head[0]} << 24) |
                              (std::uint32_t{head[1]} << 16) |
                              (std::uint32_t{head[2]} << 8) | head[3];
  switch (magic) {
  case 0xa1b2c3d4: // pcap, microseconds, big-endian writer
  case 0xd4c3b2a1: // the same, little-endian writer
  case 0xa1b23c4d: // pcap, nanoseconds
  case 0x4d3cb2a1:
  case 0x0a0d0d0a: // pcapng section header block
    return true;
  default:
    return false;
  }
}

Result<CaptureStats> read_capture(std::FILE* file,
                                  const CaptureOptions& options,
                                  CaptureSink& sink) {
  const std::string& name = options.input_name;
  std::FILE* through =
    fopencookie(file, "rb", {read_through, nullptr, nullptr, keep_open});
  if (through == nullptr) {
    return fail(Errc::io, "cannot read " + name);
  }
  // Large reads: libpcap asks for a record header and then its body, and a
  // small buffer would cost a system call every few packets.
  std::setvbuf(through, nullptr, _IOFBF, 1 << 20);
  char error[PCAP_ERRBUF_SIZE] = {};
  std::unique_ptr<pcap_t, PcapCloser> pcap(pcap_fopen_offline_with_tstamp_precision(
    through, PCAP_TSTAMP_PRECISION_MICRO, error));
  if (!pcap) {
    std::fclose(through);
    return fail(Errc::parse, name + " is not a readable capture: " + error);
  }
  const int dlt = pcap_datalink(pcap.get());
  pcap::LinkType link{};
  if (!pcap::link_type_for(dlt, link)) {
    const char* dlt_name = pcap_datalink_val_to_name(dlt);
    return fail(Errc::unsupported,
                name + ": link type " + (dlt_name ? dlt_name : "?") + " (" +
                  std::to_string(dlt) +
                  ") is not supported (Ethernet, Linux cooked, raw IP and "
                  "loopback are)");
  }

  CaptureStats stats;
  pcap::ConnectionTracker tracker(options, sink, stats);
  pcap::TcpSegment segment;
  for (;;) {
    pcap_pkthdr* header = nullptr;
    const std::uint8_t* data = nullptr;
    const int rc = pcap_next_ex(pcap.get(), &header, &data);
    if (rc == PCAP_ERROR_BREAK) {
      break; // end of file
    }
    if (rc != 1) {
      tracker.problem(stats.frames + 1,
                      std::string("the capture ends early or is damaged: ") +
                        pcap_geterr(pcap.get()));
      break;
    }
    ++stats.frames;
    stats.bytes += header->caplen;
    // pcapng stores 64-bit timestamps: one past the year 9999 is damage,
    // and would overflow the microsecond clock.
    if (header->ts.tv_sec < 0 || header->ts.tv_sec > k_last_second) {
      tracker.problem(stats.frames, "timestamp out of range; frame skipped");
      continue;
    }
    const auto time = pcap::CaptureTime(
      std::chrono::seconds(header->ts.tv_sec) +
      std::chrono::microseconds(header->ts.tv_usec));
    const char* why = "";
    switch (pcap::decode_frame(link, {data, header->caplen}, segment, why)) {
    case pcap::DecodeOutcome::tcp:
      tracker.segment(segment, stats.frames, time);
      break;
    case pcap::DecodeOutcome::not_tcp:
      break;
    case pcap::DecodeOutcome::ip_fragment:
      tracker.problem(stats.frames, "IP fragment skipped (fragmented TCP is "
                                    "not reassembled)");
      break;
    case pcap::DecodeOutcome::malformed:
      tracker.problem(stats.frames, std::string("malformed packet: ") + why);
      break;
    }
  }
  return stats;
}

} // namespace stek::inspect
