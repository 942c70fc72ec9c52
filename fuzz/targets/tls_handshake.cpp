// SPDX-License-Identifier: Apache-2.0
// The handshake message parsers of the capture reader. The first byte picks
// the message (ClientHello, ServerHello, NewSessionTicket of TLS 1.2 or
// 1.3); the rest is its body.
#include "inspect/pcap/tls_handshake.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::span<const std::uint8_t> body(data + 1, size - 1);
  namespace p = stek::inspect::pcap;
  switch (data[0] % 4) {
  case 0: (void)p::parse_client_hello(body); break;
  case 1: (void)p::parse_server_hello(body); break;
  case 2: (void)p::parse_new_session_ticket(body, false); break;
  default: (void)p::parse_new_session_ticket(body, true); break;
  }
  return 0;
}
