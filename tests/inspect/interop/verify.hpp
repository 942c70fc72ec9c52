// SPDX-License-Identifier: Apache-2.0
#pragma once

// verify_capture(): everything one capture of nginx tickets must satisfy,
// shared by the capture scenarios.

#include "inspect/interop/support.hpp"

#include <map>
#include <string>
#include <vector>

namespace stek::inspect_interop {

struct Verify {
  std::vector<std::uint16_t> ports; // decoded as TLS by tshark
  fs::path keylog{};                // s_client's key log, if any
  fs::path keystore{};              // the nginx key files imported
  SessionExpectation session{};
  // Ticket hex -> id of the nginx key in effect when it was issued.
  std::map<std::string, std::string> issued_by{};
};

struct Verified {
  std::vector<OracleTicket> oracle;      // tshark without the key log
  std::vector<OracleTicket> full;        // tshark with it (= oracle without one)
  std::vector<Json> plain;               // stekctl inspect CAPTURE
  std::vector<Json> with_keylog;         // ... --keylog K (empty without one)
  std::vector<Json> decoded;             // ... --keystore KS [--keylog K]
};

// Mark every NewSessionTicket of `oracle` as issued under `key_id`.
void issued_under(Verify& v, const std::vector<OracleTicket>& oracle, const std::string& key_id);

// Run tshark and stekctl inspect (plain, --keylog, --keystore) on
// `capture` and check them against each other and against `v`:
// - stekctl's (message, ticket) multiset equals tshark's, with the same
//   frames, times, endpoints, indexes, SNI and lifetime hints;
// - with the key log, TLS 1.3 NewSessionTickets appear, marked
//   decrypted_with_keylog;
// - every ticket's key id is the key `v.issued_by` names (a ticket tshark
//   shows that is in no map fails: its origin is unknown);
// - with the keystore every key is found and every session decoded with
//   what s_client negotiated;
// - "input" is the capture path as given.
Verified verify_capture(const fs::path& capture, const Verify& v);

} // namespace stek::inspect_interop
