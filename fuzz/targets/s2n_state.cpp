// SPDX-License-Identifier: Apache-2.0
// decode_s2n_state on any bytes (formats 4 and 2).
#include <stek/inspect/session_facts.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto facts = stek::inspect::decode_s2n_state({data, size});
  if (facts.ok() && facts->lifetime && facts->lifetime->count() < 0) {
    __builtin_trap();
  }
  return 0;
}
