// SPDX-License-Identifier: Apache-2.0
#include "inspect/interop/verify.hpp"

#include <doctest/doctest.h>

namespace stek::inspect_interop {

void issued_under(Verify& v, const std::vector<OracleTicket>& oracle, const std::string& key_id) {
  for (const auto& o : oracle) {
    if (o.kind == "new_session_ticket") {
      v.issued_by[o.hex] = key_id;
    }
  }
}

namespace {

void check_inputs(const std::vector<Json>& tickets, const std::string& input) {
  for (const auto& t : tickets) {
    CHECK_MESSAGE(t.value("input", "") == input, t.dump());
  }
}

void check_issuers(const std::vector<OracleTicket>& oracle, const Verify& v) {
  for (const auto& o : oracle) {
    CAPTURE(o.describe());
    const auto it = v.issued_by.find(o.hex);
    REQUIRE_MESSAGE(it != v.issued_by.end(),
                    "the test does not know which key issued this ticket");
    CHECK(o.hex.substr(0, 32) == it->second);
  }
}

} // namespace

Verified verify_capture(const fs::path& capture, const Verify& v) {
  CAPTURE(capture.string());
  const std::string input = capture.string();
  Verified out;
  out.oracle = tshark_tickets(capture, {.tls_ports = v.ports});
  REQUIRE_MESSAGE(!out.oracle.empty(), "tshark finds no ticket in " << input);

  {
    INFO("stekctl inspect CAPTURE");
    out.plain = inspect_ndjson({input});
    check_inputs(out.plain, input);
    check_against_oracle(out.plain, out.oracle, false);
    for (const auto& t : out.plain) {
      CHECK_FALSE(t.contains("key"));
      CHECK_FALSE(t.contains("session"));
    }
  }

  out.full = out.oracle;
  if (!v.keylog.empty()) {
    INFO("stekctl inspect --keylog K CAPTURE");
    out.full = tshark_tickets(capture, {.tls_ports = v.ports, .keylog = v.keylog});
    CHECK_MESSAGE(out.full.size() > out.oracle.size(),
                  "the key log shows tshark no TLS 1.3 NewSessionTicket");
    out.with_keylog = inspect_ndjson({"--keylog", v.keylog.string(), input});
    check_inputs(out.with_keylog, input);
    check_against_oracle(out.with_keylog, out.full, true);
    for (const auto& t : out.with_keylog) {
      if (t.value("message", "") == "new_session_ticket" &&
          t.value("tls_version", "") == "TLSv1.3") {
        CHECK_MESSAGE(t.value("decrypted_with_keylog", false), t.dump());
      }
    }
  }

  check_issuers(out.full, v);

  if (!v.keystore.empty()) {
    INFO("stekctl inspect --keystore KS [--keylog K] CAPTURE");
    std::vector<std::string> args{"--keystore", v.keystore.string()};
    if (!v.keylog.empty()) {
      args.insert(args.end(), {"--keylog", v.keylog.string()});
    }
    args.push_back(input);
    out.decoded = inspect_ndjson(args);
    check_inputs(out.decoded, input);
    check_against_oracle(out.decoded, out.full, !v.keylog.empty());
    check_decoded(out.decoded, v.session);
  }
  return out;
}

} // namespace stek::inspect_interop
