// SPDX-License-Identifier: Apache-2.0
// Whatever a user hands inspect as a ticket: told apart by content, then
// decoded as hex or base64 text.
#include <stek/inspect/input.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  const auto kind = stek::inspect::classify_input(input);
  if (kind == stek::inspect::InputKind::hex ||
      kind == stek::inspect::InputKind::base64) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    (void)stek::inspect::decode_ticket_text(text, kind);
  }
  return 0;
}
