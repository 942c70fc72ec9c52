// SPDX-License-Identifier: Apache-2.0
#pragma once

// The harness of the real-server interop tests: start real TLS servers
// (nginx, HAProxy, or any program) on loopback, talk to them with
// `openssl s_client`, and look inside the session tickets they issue.
// Build a test binary with stek_interop_test_binary() (tests/interop/
// CMakeLists.txt), which links the harness library stek_interop_harness,
// and include "interop/harness.hpp".
//
// A test, in the order it uses the pieces:
//
//   Workspace ws;                          // fresh directory + certificate
//   const auto ks = ws.path("ks.json");
//   generate_keystore(ks, utc_in(-1h));    // a key that encrypts now
//   const auto dir = ws.path("nginx-keys");
//   export_keys(ks, "nginx", dir);
//   NginxServer nginx(ws.path("nginx"), ws.cert,
//                     {.include = dir / "ssl_session_tickets.conf"});
//   nginx.start();                         // free port; waits until it serves ws.cert
//   const auto first = s_client(nginx.port(), Tls::v1_3, {.sess_out = ws.path("s.pem")});
//   const auto again = s_client(nginx.port(), Tls::v1_3, {.sess_in = ws.path("s.pem")});
//   CHECK(again.reused);
//   CHECK(key_id_of(first.ticket) == encrypting_id(ks));
//
// Pieces, one header/source pair each in harness/, documented there:
// - common: the names taken from tests/integration/process.hpp, Bytes,
//   Clock, the timeouts, hex/base64/lines helpers, OpenSSL owning
//   pointers and error text.
// - workspace: Workspace, a ScratchDir (the cwd while it lives) plus a
//   self-signed P-256 certificate for "a.example" (make_certificate) in
//   tls/.
// - child: Child, fork/exec in its own process group with a parent-death
//   signal and deadlines; it never signals anything it did not start.
// - tls_server: TlsServer, any TLS server program described by a Spec,
//   started on a free_port() and ready once a handshake presents its
//   certificate; require_program().
// - servers: NginxServer (NginxSite) and HaproxyServer.
// - s_client: s_client(port, Tls::v1_2|v1_3, {.server_name, .sess_in,
//   .sess_out}) and what it saw, a Handshake.
// - tickets: reading, splitting, opening and sealing OpenSSL-family
//   tickets and key files, session-id contexts, generated_key_parts().
// - stekctl: running stekctl and reading its outputs, snapshot(dir).
//
// Servers check ticket age against the real clock, while --at moves only
// stekctl's view: generate with --at in the past to have a key that
// encrypts now, and move the keystore through time with --at while the
// sessions stay fresh.
//
// The paths of the programs come from CMake (STEK_INTEROP_NGINX,
// STEK_INTEROP_HAPROXY, STEK_INTEROP_OPENSSL, compiled into the harness
// library); an empty one means it was not found at configure time, and the
// tests that need it fail saying so.

#include "interop/harness/child.hpp"
#include "interop/harness/common.hpp"
#include "interop/harness/s_client.hpp"
#include "interop/harness/servers.hpp"
#include "interop/harness/stekctl.hpp"
#include "interop/harness/tickets.hpp"
#include "interop/harness/tls_server.hpp"
#include "interop/harness/workspace.hpp"
