// SPDX-License-Identifier: Apache-2.0
// decode_go_state on any bytes (Go 1.19 sessionState and
// sessionStateTLS13).
#include <stek/inspect/session_facts.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)stek::inspect::decode_go_state({data, size});
  return 0;
}
