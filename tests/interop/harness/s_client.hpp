// SPDX-License-Identifier: Apache-2.0
#pragma once

// s_client(port, Tls::v1_2|v1_3, {.server_name, .sess_in, .sess_out}): one
// `openssl s_client` connection with an HTTP/1.0 request on stdin and
// -ign_eof (so TLS 1.3 tickets, which come after the handshake, arrive).
// Handshake: ok, reused ("Reused,"), protocol, the ticket saved in sess_out
// (empty if s_client wrote none: it writes none for a resumed TLS 1.2
// session, nor HAProxy's resumed TLS 1.3 ones), held_ticket_id (the ticket
// the client held after the handshake, from s_client's printout: catches a
// TLS 1.2 ticket renewed on resumption), details().
//
// The path of openssl comes from CMake (STEK_INTEROP_OPENSSL, compiled into
// s_client.cpp); an empty one means it was not found at configure time, and
// the tests that need it fail saying so.

#include "interop/harness/common.hpp"

#include <cstdint>
#include <string>

namespace stek::interop {

enum class Tls { v1_2, v1_3 };
inline constexpr Tls k_versions[] = {Tls::v1_2, Tls::v1_3};

inline std::string name_of(Tls v) { return v == Tls::v1_2 ? "TLS 1.2" : "TLS 1.3"; }
inline const char* flag_of(Tls v) { return v == Tls::v1_2 ? "-tls1_2" : "-tls1_3"; }
inline std::string file_tag(Tls v) { return v == Tls::v1_2 ? "tls12" : "tls13"; }

struct ClientOptions {
  std::string server_name = "a.example";
  fs::path sess_in{};  // resume this saved session
  fs::path sess_out{}; // save the session (removed first, so a file that is
                     // there afterwards was written by this connection)
};

struct Handshake {
  bool ok = false;      // a handshake completed ("New," or "Reused," printed)
  bool reused = false;  // it resumed ("Reused,")
  std::string protocol; // "TLSv1.2" / "TLSv1.3" from that line
  Bytes ticket;         // the ticket saved in sess_out, or empty
  // The key id of the ticket the client held when the handshake completed,
  // from the session s_client prints. On TLS 1.2 this includes a ticket
  // the server renewed during a resumption, which -sess_out does not save
  // (OpenSSL's client calls the new-session callback only for new TLS 1.2
  // sessions). TLS 1.3 tickets arrive after the handshake: use `ticket`.
  std::string held_ticket_id;
  std::string out, err; // what s_client printed
  std::string summary() const {
    return std::string(ok ? (reused ? "Reused" : "New") : "failed") + " " + protocol;
  }
  std::string details() const {
    return summary() + "\n--- s_client stdout ---\n" + out + "--- stderr ---\n" + err;
  }
};

// One `openssl s_client` connection to 127.0.0.1:port: an HTTP/1.0 request
// on stdin and -ign_eof, so it reads until the server closes and collects
// TLS 1.3 tickets that arrive after the handshake.
Handshake s_client(std::uint16_t port, Tls version, const ClientOptions& options = {});

} // namespace stek::interop
