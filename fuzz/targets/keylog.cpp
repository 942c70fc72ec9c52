// SPDX-License-Identifier: Apache-2.0
// Keylog::parse on any text. What it accepts must be findable: for each
// line that parsed as a known label, find() returns a secret of the line's
// length. The seed corpus holds key logs as OpenSSL, NSS and Windows tools
// write them (comments, CRLF, unknown labels).
#include <stek/inspect/keylog.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto log = stek::inspect::Keylog::parse(text, "fuzz");
  if (!log.ok()) {
    if (log.error().code != stek::Errc::parse || log.error().message.empty()) {
      __builtin_trap();
    }
    return 0;
  }
  // Every entry took at least 64 + 2 + 2 characters of its own line.
  if (log->size() > size / 68 + 1) {
    __builtin_trap();
  }
  const std::array<std::uint8_t, 32> zero{};
  const stek::SecretBytes* secret = log->find("SERVER_TRAFFIC_SECRET_0", zero);
  if (secret && (secret->empty() || secret->size() > 64)) {
    __builtin_trap();
  }
  return 0;
}
