// SPDX-License-Identifier: Apache-2.0
#include "interop/harness/s_client.hpp"

#include "interop/harness/child.hpp"
#include "interop/harness/tickets.hpp"
#include "interop/harness/tls_server.hpp"

#include <doctest/doctest.h>

#include <regex>
#include <vector>

#ifndef STEK_INTEROP_OPENSSL
#define STEK_INTEROP_OPENSSL ""
#endif

namespace stek::interop {

Handshake s_client(std::uint16_t port, Tls version, const ClientOptions& options) {
  std::vector<std::string> argv{
    require_program(STEK_INTEROP_OPENSSL, "openssl"), "s_client",
    "-connect", "127.0.0.1:" + std::to_string(port),
    "-servername", options.server_name, flag_of(version), "-ign_eof"};
  if (!options.sess_in.empty()) {
    REQUIRE_MESSAGE(fs::exists(options.sess_in), "no saved session " << options.sess_in);
    argv.insert(argv.end(), {"-sess_in", fs::absolute(options.sess_in).string()});
  }
  if (!options.sess_out.empty()) {
    fs::remove(options.sess_out);
    argv.insert(argv.end(), {"-sess_out", fs::absolute(options.sess_out).string()});
  }
  ChildOptions child_options;
  child_options.stdin_data =
    "GET / HTTP/1.0\r\nHost: " + options.server_name + "\r\n\r\n";
  Child child = Child::spawn(argv, child_options);
  const auto status = child.wait_for(k_client_timeout);
  Handshake h;
  h.out = child.out();
  h.err = child.err();
  REQUIRE_MESSAGE(status.has_value(), "s_client timed out on port " << port << "\n"
                                                                    << h.out << h.err);
  // s_client prints "New, TLSv1.3, Cipher is ..." or "Reused, ...".
  static const std::regex line("^(New|Reused), (TLSv1\\.[0-9]),.*");
  for (const auto& text : lines_of(h.out)) {
    std::smatch m;
    if (std::regex_match(text, m, line)) {
      h.ok = true;
      h.reused = m[1] == "Reused";
      h.protocol = m[2];
      break;
    }
  }
  if (!options.sess_out.empty() && fs::exists(options.sess_out)) {
    h.ticket = read_ticket(options.sess_out);
  }
  // "    TLS session ticket:" then "    0000 - b2 61 ... dc-13 60 ... 24   ..."
  const auto printed = lines_of(h.out);
  for (std::size_t i = 0; i + 1 < printed.size(); ++i) {
    if (printed[i].find("TLS session ticket:") != std::string::npos) {
      static const std::regex row(R"(\s*0000 - ((?:[0-9a-f]{2}[ -]){15}[0-9a-f]{2}).*)");
      std::smatch m;
      const auto& next = printed[i + 1];
      if (std::regex_match(next, m, row)) {
        std::string hex = m[1].str();
        std::erase_if(hex, [](char c) { return c == ' ' || c == '-'; });
        h.held_ticket_id = hex;
      }
    }
  }
  return h;
}

} // namespace stek::interop
