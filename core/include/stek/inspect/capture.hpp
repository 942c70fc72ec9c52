// SPDX-License-Identifier: Apache-2.0
// Read pcap and pcapng captures once, in bounded memory, reassemble TCP per
// direction, parse TLS records and handshake messages, and report every
// ticket: TLS 1.2 NewSessionTicket, TLS 1.2 ClientHello session_ticket
// (non-empty), TLS 1.3 ClientHello pre_shared_key identities, and, with a
// record decryptor (--keylog), TLS 1.3 NewSessionTickets.
#pragma once
#include <stek/inspect/sighting.hpp>
#include <stek/result.hpp>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>

namespace stek::inspect {

// Decrypts one connection's TLS 1.3 records sent by the server after its
// ServerHello (handshake keys, then application keys).
class ServerRecordDecryptor {
public:
  virtual ~ServerRecordDecryptor() = default;
  struct Inner {
    std::uint8_t content_type = 0; // 22 handshake, 23 application data, ...
    std::vector<std::uint8_t> plaintext;
  };
  // Open `record` (5-byte header and body, outer type 23). Errc::crypto
  // when no key authenticates it.
  virtual Result<Inner> open(std::span<const std::uint8_t> record) = 0;
};

// Makes decryptors from a key log; the capture reader asks once per TLS 1.3
// connection, after the ServerHello.
class RecordDecryptorFactory {
public:
  virtual ~RecordDecryptorFactory() = default;
  // Return a decryptor for the connection whose ClientHello random is
  // `client_random` and whose ServerHello chose `cipher_suite`, or null if
  // the key log has no secrets for it or the suite is not supported.
  virtual std::unique_ptr<ServerRecordDecryptor>
  for_connection(std::span<const std::uint8_t, 32> client_random,
                 std::uint16_t cipher_suite) = 0;
};

// Bounds that keep memory constant whatever the capture's size.
struct CaptureLimits {
  std::size_t max_streams = 16384;          // TCP connections tracked at once
  std::size_t max_buffered_per_direction = 256 * 1024; // out-of-order + partial
  std::chrono::seconds idle_timeout{300};   // capture time without a packet
};

struct CaptureOptions {
  std::string input_name; // for Sighting::input and messages
  RecordDecryptorFactory* decryptors = nullptr;
  CaptureLimits limits;
};

// Something in the capture that was skipped: a malformed packet or record,
// a stream dropped at a limit, a truncated file.
struct CaptureProblem {
  std::uint64_t frame = 0; // 0 when not tied to a frame
  std::string what;
};

class CaptureSink {
public:
  virtual ~CaptureSink() = default;
  virtual void sighting(Sighting&& sighting) = 0;
  virtual void problem(const CaptureProblem& problem) = 0;
};

struct CaptureStats {
  std::uint64_t frames = 0;
  std::uint64_t bytes = 0;           // captured bytes of all frames
  std::uint64_t tcp_streams = 0;     // connections seen
  std::uint64_t tls_streams = 0;     // of which carried TLS
  std::uint64_t sightings = 0;
  std::uint64_t problems = 0;
  std::uint64_t evicted_streams = 0; // dropped at max_streams or idle
  std::uint64_t decrypted_records = 0;
};

// Return whether `head` (the first bytes of an input) starts like a pcap
// (either byte order, micro- or nanosecond) or pcapng file.
bool looks_like_capture(std::span<const std::uint8_t> head);

// Read the capture from `file` to its end (it is not rewound). Errc::parse
// naming the input when it is not a capture at all or uses an unsupported
// link type; damage further in is reported through `sink` and skipped.
Result<CaptureStats> read_capture(std::FILE* file,
                                  const CaptureOptions& options,
                                  CaptureSink& sink);

} // namespace stek::inspect
