// SPDX-License-Identifier: Apache-2.0
#pragma once

// Real-capture tests of `stekctl inspect`: the pieces they share, on top of
// the interop harness (tests/interop/harness.hpp: workspace, nginx, Child).
//
// - PacketCapture: tcpdump (or dumpcap) on loopback, started and stopped
//   so that the file is complete (see the traps below).
// - tshark_tickets(): the oracle. tshark 4.0 reads the same capture and we
//   extract the three ticket kinds from its JSON ourselves.
// - ChunkingProxy: a TCP proxy that forwards every chunk in writes of 1-5
//   bytes, so each becomes its own segment.
// - Client: `openssl s_client` with -keylogfile, and what it negotiated.
// - inspect_ndjson(), inspect_summary(): `stekctl --json inspect`.
// - check_against_oracle(), check_decoded(): the comparisons.
//
// Traps met here (tcpdump 4.99.3 / libpcap 1.10.3 / tshark 4.0.17):
// - tcpdump without --immediate-mode on Linux (TPACKET_V3) buffers packets
//   in blocks that a SIGINT throws away: a short capture ends up with the
//   pcap header only ("0 packets captured" although the filter received
//   them). Use --immediate-mode (and -U).
// - tcpdump -i any --immediate-mode with the default buffer dropped a few
//   packets of a handful of handshakes ("6 packets dropped by kernel"),
//   losing tickets: -B 16384. stop() fails the test if a capture dropped
//   anything.
// - tcpdump drops privileges to the "tcpdump" user after opening the
//   device; -Z root keeps it able to write into any test directory.
// - `tshark -T json` writes duplicate keys for repeated fields (several
//   records or handshake messages in one frame: "tls.record" twice) and
//   ordinary JSON readers keep only the last: use --no-duplicate-keys,
//   which turns them into arrays.
// - tshark 4.0 has no field for the data of the ClientHello session_ticket
//   extension (35); with -x (raw bytes) the extension's generic
//   "tls.handshake.extension.data_raw" carries it as plain hex. The
//   non-raw values of byte fields are colon-separated; *_raw values are
//   [hex, offset, length, bitmask, type] arrays (an array of those when
//   repeated).
// - `-j` filters out the children of the named protocols ("filtered"); use
//   `-J` (top-level filter, whole subtrees) to keep the output small.
// - With `-o tls.keylog_file:K` tshark decrypts TLS 1.3 and its JSON then
//   also holds the TLS 1.3 NewSessionTickets (handshake type 4).

#include "interop/harness.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace stek::inspect_interop {

using namespace stek::interop;
using Json = nlohmann::json;

// The programs, found by CMake (tests/inspect/interop.cmake); "" if not.
std::string tcpdump_program();
std::string dumpcap_program();
std::string tshark_program();
std::string editcap_program();
std::string openssl_program();

// ---------------------------------------------------------------------------
// Captures

enum class CaptureTool {
  tcpdump, // pcap
  dumpcap, // pcapng
};

struct CaptureOptions {
  CaptureTool tool = CaptureTool::tcpdump;
  std::string interface = "lo";
  // tcpdump -y: e.g. "LINUX_SLL" with interface "any" (the default link
  // type there is LINUX_SLL2).
  std::string link_type{};
};

// A packet capture of TCP on `ports`, running while it lives. start()
// returns once the tool says it listens; stop() waits a moment for the
// last packets, sends SIGINT (the tools flush and close the file on it) and
// waits for the tool to end.
class PacketCapture {
public:
  PacketCapture(fs::path file, std::vector<std::uint16_t> ports, CaptureOptions options = {});
  PacketCapture(const PacketCapture&) = delete;
  PacketCapture& operator=(const PacketCapture&) = delete;
  ~PacketCapture();

  void stop();
  const fs::path& file() const { return m_file; }

private:
  fs::path m_file;
  fs::path m_log;
  Child m_child;
  bool m_stopped = false;
};

// `editcap -F FORMAT in out` (e.g. "pcapng", "nsecpcap").
void convert_capture(const fs::path& in, const fs::path& out, const std::string& format);

// ---------------------------------------------------------------------------
// The tshark oracle

// One ticket tshark shows in a capture.
struct OracleTicket {
  std::string kind;  // stekctl's message names
  std::string hex;   // the ticket bytes
  std::uint64_t frame = 0;
  std::string time;  // frame time as stekctl prints it, microseconds
  std::string src, dst; // "127.0.0.1:4433"
  std::uint64_t stream = 0; // tcp.stream
  std::uint32_t index = 0;  // among the identities of one extension, or
                            // the NewSessionTickets of one connection
  std::string sni;          // the connection's ClientHello server name
  std::optional<std::uint32_t> lifetime_hint; // NewSessionTicket
  std::string describe() const;
};

struct OracleOptions {
  // Ports to decode as TLS (-d tcp.port==P,tls).
  std::vector<std::uint16_t> tls_ports;
  // A key log for tshark (-o tls.keylog_file:K): TLS 1.3
  // NewSessionTickets then appear too.
  fs::path keylog{};
};

// Run tshark on `capture` and extract every ticket (see the recipe in
// support.cpp). The tshark JSON is kept next to the capture (.tshark.json).
std::vector<OracleTicket> tshark_tickets(const fs::path& capture, const OracleOptions& options);

// How many TCP segments with 1-5 payload bytes the capture holds.
std::size_t tiny_segments(const fs::path& capture);

// ---------------------------------------------------------------------------
// A proxy that chops the stream into tiny writes

class ChunkingProxy {
public:
  // Listen on 127.0.0.1 (a free port) and forward each connection to
  // 127.0.0.1:upstream, both ways, in writes of 1-5 bytes with a pause
  // between them and TCP_NODELAY, so each write is its own segment.
  explicit ChunkingProxy(std::uint16_t upstream);
  ChunkingProxy(const ChunkingProxy&) = delete;
  ChunkingProxy& operator=(const ChunkingProxy&) = delete;
  ~ChunkingProxy();

  std::uint16_t port() const { return m_port; }
  std::size_t connections() const { return m_connections.load(); }

private:
  void accept_loop();
  void relay(int client);

  std::uint16_t m_upstream = 0;
  std::uint16_t m_port = 0;
  int m_listener = -1;
  std::atomic<bool> m_stop{false};
  std::atomic<std::size_t> m_connections{0};
  std::thread m_acceptor;
  std::vector<std::thread> m_relays; // touched by the acceptor only
};

// ---------------------------------------------------------------------------
// The client

struct ClientRun {
  bool ok = false;
  bool reused = false;
  std::string protocol;    // "TLSv1.2"
  std::string cipher;      // OpenSSL's name, "ECDHE-ECDSA-AES256-GCM-SHA384"
  std::string cipher_iana; // "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"
  Bytes ticket;            // from sess_out (OpenSSL API), or empty
  std::string out, err;
  std::string details() const;
};

struct ClientRunOptions {
  std::string server_name = "a.example";
  fs::path sess_in{};
  fs::path sess_out{};
  fs::path keylog{}; // -keylogfile (appends)
};

// `openssl s_client -connect 127.0.0.1:port -servername NAME -tls1_x
// -ign_eof` with an HTTP/1.0 request, so TLS 1.3 tickets arrive.
ClientRun run_client(std::uint16_t port, Tls version, const ClientRunOptions& options = {});

// The IANA name of an OpenSSL cipher name, from `openssl ciphers -stdname`.
std::string iana_cipher_name(const std::string& openssl_name);

// ---------------------------------------------------------------------------
// Key files

struct KeyFile {
  fs::path path;
  std::string id; // hex of its first 16 bytes: the name tickets carry
};

// A random nginx ssl_session_ticket_key file of `size` (80 or 48) bytes.
KeyFile make_key_file(const fs::path& path, std::size_t size = 80);

// `stekctl --at <1h ago> import KS --format FORMAT FILES...`: the keys are
// valid from before the capture.
void import_keys(const fs::path& keystore, const std::string& format,
                 const std::vector<KeyFile>& files);

// ---------------------------------------------------------------------------
// stekctl inspect

// `stekctl --json inspect ARGS...`: exit 0 required; one object per line.
std::vector<Json> inspect_ndjson(const std::vector<std::string>& args);

// `stekctl --json inspect --summary ARGS...`: exit 0; one document.
Json inspect_summary(const std::vector<std::string>& args);

// The tickets of `all` whose "input" is `input`.
std::vector<Json> of_input(const std::vector<Json>& all, const std::string& input);

// The SHA-256 of the ticket `hex`, as stekctl inspect --json prints it in
// "ticket_sha256" (it does not print tickets themselves).
std::string digest_of_hex(const std::string& hex);

// Compare stekctl's tickets from one capture with tshark's: the multisets
// of (message, ticket) are equal, and each of stekctl's tickets has the
// frame, time, endpoints, index, SNI, lifetime hint and TLS version of a
// matching tshark ticket; the key id is the ticket's first 16 bytes.
// `keylog`: whether inspect had --keylog (decrypted_with_keylog is then
// expected on TLS 1.3 NewSessionTickets only).
void check_against_oracle(const std::vector<Json>& tickets,
                          const std::vector<OracleTicket>& oracle, bool keylog);

// What the sessions inside the tickets must say.
struct SessionExpectation {
  // IANA cipher suite per protocol ("TLSv1.2" -> ...), from s_client.
  std::map<std::string, std::string> cipher_by_protocol;
  // The server name each session was made for, by ticket hex; those not
  // listed use `sni`.
  std::string sni = "a.example";
  std::map<std::string, std::string> sni_by_ticket{};
  // The keystore key's origin: the import format ("nginx", "nginx48").
  std::string origin = "nginx";
};

// With --keystore: every ticket's key is found, has id key_id and the
// expected origin, and its session is decoded (openssl-der) with the protocol of
// the ticket's TLS version, the cipher suite s_client negotiated for it
// and the expected SNI.
void check_decoded(const std::vector<Json>& tickets, const SessionExpectation& expected);

// Record what a client run negotiated in `expected` (REQUIREs that runs
// of one protocol agree on the cipher).
void note_cipher(SessionExpectation& expected, const ClientRun& run);

// Count of each message kind in `oracle`.
std::map<std::string, std::size_t> kind_counts(const std::vector<OracleTicket>& oracle);

} // namespace stek::inspect_interop
