// SPDX-License-Identifier: Apache-2.0
#pragma once

// The servers of the Go, plain-OpenSSL and Apache interop tests, as
// TlsServers of the harness (interop/harness.hpp):
// - GoServer: go_ticket_server (Go 1.19 crypto/tls, SetSessionTicketKeys)
//   on stekctl's `go` export; reload() = SIGHUP, waits for "reloaded".
// - OpensslServer: openssl_ticket_server (SSL_CTX_set_tlsext_ticket_keys)
//   on stekctl's `openssl` export; reload() = SIGHUP, waits for "reloaded".
// - ApacheServer: Debian's apache2 2.4 with mod_ssl, everything in its
//   directory, one child process (see ApacheServer for why).
// Plus what the Go tests need to look inside Go 1.19's tickets.
//
// The paths come from CMake (tests/interop/servers/CMakeLists.txt, compiled
// into test_servers.cpp): the two test servers are built there; apache2 is
// found at configure time. An empty path makes the tests that need it fail
// saying so.

#include "interop/harness.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace stek::interop {

// The session-id context openssl_ticket_server sets (k_session_id_context
// in openssl_ticket_server.cpp).
inline Bytes openssl_server_session_id_context() { return "stekctl-openssl-test"; }

// How many times `needle` occurs in `text`.
std::size_t count_of(const std::string& text, const std::string& needle);

// A test server of ours (go_ticket_server, openssl_ticket_server): flags
// -listen -cert -key -keys; "listening" once it serves, "reloaded" after a
// SIGHUP re-read the key file.
class TicketTestServer : public TlsServer {
public:
  TicketTestServer(std::string name, const char* program, const fs::path& dir,
                   const Certificate& cert, fs::path keys);

  const fs::path& keys() const { return m_keys; }

  // SIGHUP: re-read the key file; wait until the server says it did.
  void reload() override;

private:
  // Static for the reason given at NginxServer::make_spec.
  static Spec make_spec(TicketTestServer* self, std::string name, const char* program,
                        const fs::path& dir, const Certificate& cert);

  fs::path m_keys;
};

// go_ticket_server (tests/interop/servers/go_ticket_server.go): Go 1.19's
// crypto/tls with Config.SetSessionTicketKeys from a `go` export.
class GoServer : public TicketTestServer {
public:
  GoServer(const fs::path& dir, const Certificate& cert, fs::path keys);
};

// openssl_ticket_server (tests/interop/servers/openssl_ticket_server.cpp):
// SSL_CTX_set_tlsext_ticket_keys with an `openssl` export.
class OpensslServer : public TicketTestServer {
public:
  OpensslServer(const fs::path& dir, const Certificate& cert, fs::path keys);
};

// Debian's apache2 (2.4.71) with mod_ssl and the event MPM, run as
// `apache2 -d DIR -f DIR/httpd.conf -DFOREGROUND` with everything (config,
// pid file, mutexes, runtime files, error log) in its directory, listening
// on 127.0.0.1:<port> with TLS 1.2 and 1.3 and SSLSessionTicketKeyFile.
//
// Exactly one child process (ServerLimit 1): with OpenSSL 3, mod_ssl 2.4.x
// points OpenSSL at a stack buffer of ssl_init_ticket_key for the HMAC key,
// so each child process MACs tickets with whatever 16 bytes lie at that
// address in its own copy of the stack. A child forked at start-up had 16
// zero bytes in every run here; a child the parent forked later for spare
// capacity sometimes had other bytes (0x20 x 16 was seen), and tickets then
// resumed only on the child that issued them. One child makes a test's
// outcome depend on the key file, not on which child takes a connection.
//
// reload() restarts it (SIGTERM, then a fresh start on a new port): Apache
// reads the key file only at (re)start.
class ApacheServer : public TlsServer {
public:
  ApacheServer(const fs::path& dir, const Certificate& cert, fs::path ticket_key,
               std::string server_name = "a.example");

  fs::path& ticket_key() { return m_ticket_key; }
  fs::path error_log() const { return dir() / "error.log"; }

private:
  // Static for the reason given at NginxServer::make_spec.
  static Spec make_spec(ApacheServer* self, const fs::path& dir, const Certificate& cert,
                        std::string server_name);

  void write_config(std::uint16_t port) const;

  fs::path m_ticket_key;
};

// ---------------------------------------------------------------------------
// OpenSSL-family tickets, one part at a time (open_ticket checks all at once)

// Whether the last 32 bytes of `ticket` are the HMAC-SHA256 under `hmac_key`
// of everything before them.
bool ticket_mac_matches(const Bytes& ticket, const Bytes& hmac_key);

// Decrypt an OpenSSL-family ticket (name | IV | AES-CBC | MAC) under `aes`
// (16 bytes: AES-128-CBC, 32: AES-256-CBC) without looking at its MAC: the
// plaintext if the padding is right and it is exactly one DER SSL_SESSION,
// else nullopt.
std::optional<Bytes> decrypt_ticket_ignoring_mac(const Bytes& ticket, const Bytes& aes);

// ---------------------------------------------------------------------------
// Go 1.19 tickets

// What Go 1.19's crypto/tls makes of one 32-byte SetSessionTicketKeys key
// (ticketKeyFromBytes, src/crypto/tls/common.go): h = SHA-512(key); the key
// name is h[0:16], the AES-128 key h[16:32], the HMAC-SHA256 key h[32:48].
struct GoTicketKey {
  Bytes name;
  Bytes aes;
  Bytes hmac;
};

GoTicketKey go_ticket_key(const Bytes& seed);

// The keys of a `go` export, in its order (the first encrypts).
std::vector<Bytes> go_export_keys(const fs::path& file);

// Verify and decrypt a Go 1.19 ticket (name | IV | AES-128-CTR | HMAC-
// SHA256 over the rest; Conn.decryptTicket, src/crypto/tls/ticket.go) under
// `key`: the plaintext, or nullopt if the name or the MAC does not match.
// The plaintext starts with the TLS version (03 03 or 03 04).
std::optional<Bytes> open_go_ticket(const Bytes& ticket, const GoTicketKey& key);

// The base64 "material" of key `id` in a keystore file, decoded.
Bytes keystore_material(const fs::path& keystore, const std::string& id);

} // namespace stek::interop
