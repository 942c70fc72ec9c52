// SPDX-License-Identifier: Apache-2.0
// Captures that claim huge sizes: a 4 GB pcap record or pcapng block, a TLS
// handshake message of 2^24 - 1 bytes, a TLS record over 2^14 + 2048, and
// hundreds of connections each buffering as much as it may. stekctl
// reports each, keeps reading what it can, and stays within its memory.

#include "bounded.hpp"
#include "hostile_captures.hpp"

#include <stek/crypto.hpp>
#include <stek/encoding.hpp>

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <sstream>

using stek::test::contains;
using stek::test::ScratchDir;
using namespace stek::test::limits;

namespace {

// The NDJSON documents stekctl --json inspect printed.
std::vector<nlohmann::json> documents(const std::string& out) {
  std::vector<nlohmann::json> docs;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    docs.push_back(stek::test::parse_json(line));
  }
  return docs;
}


// Check that `r` exited 0 within its memory bound and printed exactly the
// ticket of the resuming_connection() from `port`.
void expect_only_resumption(const BoundedResult& r, std::uint16_t port) {
  CHECK_MESSAGE(r.process.code == 0, describe(r));
  CHECK_MESSAGE(r.max_rss_kib < k_max_rss_kib, describe(r));
  const auto docs = documents(r.process.out);
  REQUIRE_MESSAGE(docs.size() == 1, describe(r));
  CHECK(docs[0].at("src").get<std::string>().ends_with(":" + std::to_string(port)));
  CHECK(docs[0].at("ticket_sha256").get<std::string>() ==
        stek::hex_encode(stek::sha256(resumed_ticket())));
}

// A pcapng file of one raw-IP interface, its frames, then `tail` as is.
cap::Bytes pcapng_then(const std::vector<cap::Packet>& packets,
                       const cap::Bytes& tail) {
  auto file = cap::pcapng_file(101, packets);
  cap::append(file, tail);
  return file;
}

std::vector<cap::Packet> resumption_packets() {
  cap::Flow flow;
  cap::HelloOptions hello;
  hello.session_ticket = resumed_ticket();
  std::vector<cap::Packet> packets(2);
  packets[0].frame = cap::tcp_packet(flow, true, 1000, 0x02, {});
  packets[1].frame =
    cap::tcp_packet(flow, true, 1001, 0x18, cap::record(22, cap::client_hello(hello)));
  return packets;
}

void write_bytes(const std::string& path, const cap::Bytes& bytes) {
  std::ofstream(path, std::ios::binary)
    .write(reinterpret_cast<const char*>(bytes.data()),
           static_cast<std::streamsize>(bytes.size()));
}

} // namespace

TEST_CASE("limits: a pcap record claiming 4 GB is reported, not allocated") {
  ScratchDir dir;
  {
    PcapWriter out("huge-record.pcap");
    resuming_connection(out, 50000);
    out.record_header(0xffffffff);
    out.write(cap::filled(4096, 0x16));
  }
  const auto r = bounded({"--json", "inspect", "huge-record.pcap"});
  expect_only_resumption(r, 50000);
  // The record's length is all that frames the next one: reading stops
  // there, with a warning naming the file, the frame and the limit.
  CHECK_MESSAGE(contains(r.process.err, "huge-record.pcap frame 3"), describe(r));
  CHECK(contains(r.process.err, "4294967295"));
  CHECK(contains(r.process.err, "262144"));
}

TEST_CASE("limits: a pcapng packet or block claiming 4 GB is reported, not allocated") {
  ScratchDir dir;
  SUBCASE("a packet's captured length") {
    cap::Bytes epb;
    for (const std::uint32_t v : {6u, 32u + 64u, 0u, 0u, 0u, 0xffffffffu, 0xffffffffu}) {
      cap::put32le(epb, v);
    }
    epb.resize(epb.size() + 64, 0); // the 64 bytes the block does hold
    cap::put32le(epb, 32 + 64);
    write_bytes("huge.pcapng", pcapng_then(resumption_packets(), epb));
    const auto r = bounded({"--json", "inspect", "huge.pcapng"});
    expect_only_resumption(r, 50000);
    CHECK_MESSAGE(contains(r.process.err, "huge.pcapng frame 3"), describe(r));
    CHECK(contains(r.process.err, "4294967295"));
  }
  SUBCASE("a block's total length") {
    cap::Bytes block;
    cap::put32le(block, 6);
    cap::put32le(block, 0xfffffff0);
    block.resize(block.size() + 4096, 0);
    write_bytes("huge.pcapng", pcapng_then(resumption_packets(), block));
    const auto r = bounded({"--json", "inspect", "huge.pcapng"});
    expect_only_resumption(r, 50000);
    CHECK_MESSAGE(contains(r.process.err, "huge.pcapng frame 3"), describe(r));
    CHECK(contains(r.process.err, "4294967280"));
  }
}

TEST_CASE("limits: a TLS handshake message of 2^24 - 1 bytes or an oversized record is skipped, the rest read") {
  ScratchDir dir;
  {
    PcapWriter out("lengths.pcap");
    // A ClientHello claiming 16 MiB, followed by half a mebibyte of what
    // would be its body: nothing of it is buffered.
    ClientStream message(out, 50001);
    cap::Bytes claim{1, 0xff, 0xff, 0xff};
    cap::append(claim, cap::filled(512 * 1024, 0));
    message.send(handshake_records(claim));
    // A record header claiming 65535 bytes, then more than that.
    ClientStream record(out, 50002);
    cap::Bytes header{22, 3, 3, 0xff, 0xff};
    cap::append(header, cap::filled(70000, 0x16));
    record.send(header);
    resuming_connection(out, 50003);
  }
  const auto r = bounded({"--json", "inspect", "lengths.pcap"});
  expect_only_resumption(r, 50003);
  CHECK_MESSAGE(contains(r.process.err,
                         "handshake message of 16777215 bytes, over the "
                         "262144-byte limit"),
                describe(r));
  CHECK(contains(r.process.err,
                 "TLS record of 65535 bytes, over the 2^14 + 2048 limit"));
  CHECK(contains(r.process.err, "lengths.pcap frame"));
}

TEST_CASE("limits: connections buffering all they may stay within one budget") {
  ScratchDir dir;
  {
    PcapWriter out("buffers.pcap");
    // 300 handshakes each stopped 5000 bytes short of a 250000-byte
    // message, just under the per-direction limit: 73 MB buffered
    // without a budget across connections.
    constexpr std::uint32_t k_message = 250000;
    cap::Bytes partial{1};
    cap::put24(partial, k_message);
    cap::append(partial, cap::filled(k_message - 5000, 0));
    const auto records = handshake_records(partial);
    for (std::uint16_t i = 0; i < 300; ++i) {
      ClientStream c(out, static_cast<std::uint16_t>(20000 + i));
      c.send(records);
    }
    resuming_connection(out, 50004);
  }
  const auto r = bounded({"--json", "inspect", "buffers.pcap"});
  expect_only_resumption(r, 50004);
  CHECK_MESSAGE(contains(r.process.err,
                         "bytes buffered across TCP connections: the least "
                         "recently active are dropped"),
                describe(r));
  std::filesystem::remove("buffers.pcap");
}
