// SPDX-License-Identifier: Apache-2.0
// decode_openssl_session on any bytes: server-side ticket plaintexts and
// client-side sessions.
#include <stek/inspect/session_facts.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto facts = stek::inspect::decode_openssl_session({data, size});
  if (facts.ok() && facts->cipher_suite) {
    (void)stek::inspect::cipher_suite_name(*facts->cipher_suite);
  }
  if (facts.ok() && facts->protocol) {
    (void)stek::inspect::protocol_name(*facts->protocol);
  }
  return 0;
}
