// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stek/result.hpp>
#include <stek/secret.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace stek {

// Return lower-case hex of `bytes` (public data only, e.g. key ids).
std::string hex_encode(std::span<const std::uint8_t> bytes);
// Decode hex (either case, even length, no separators).
Result<std::vector<std::uint8_t>> hex_decode(std::string_view text);
// Decode exactly 2 * out.size() hex digits of `text` into `out`, in place,
// so that secret bytes (a key log's secrets) land only in a buffer the
// caller wipes. False on a digit that is not hex or a text that is short.
bool hex_decode_into(std::string_view text, std::span<std::uint8_t> out);

// Append the padded standard base64 of `bytes` to `out`.
void base64_encode_into(SecretView bytes, SecretBytes& out);
// Return the padded standard base64 of public `bytes`.
std::string base64_encode(std::span<const std::uint8_t> bytes);
// Decode strict padded standard base64: no whitespace, no missing padding,
// no non-zero trailing bits.
Result<SecretBytes> base64_decode(std::string_view text);

} // namespace stek
