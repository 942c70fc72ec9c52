// SPDX-License-Identifier: Apache-2.0
// read_pem_sessions on any text.
#include <stek/inspect/pem_session.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const bool looks = stek::inspect::looks_like_pem_session(text);
  const auto sessions = stek::inspect::read_pem_sessions(text);
  if (sessions.ok() && !looks) {
    __builtin_trap();
  }
  return 0;
}
