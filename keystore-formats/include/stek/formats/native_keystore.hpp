// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stek/keystore.hpp>
#include <stek/result.hpp>
#include <stek/secret.hpp>

#include <cstddef>
#include <filesystem>
#include <string_view>

namespace stek::formats {

// The largest native keystore file read: far above any real keystore (10,000
// keys take about 4 MB), low enough that a wrong file cannot exhaust memory.
inline constexpr std::size_t k_max_native_keystore_size = 64u << 20;

// Parse the native JSON keystore (version 1) in `bytes`. Reading is strict:
// unknown or duplicate fields, a wrong type, an unknown version, bad base64,
// a wrong secret length, a duplicate id or secret, times out of order or a
// time that does not parse are errors naming the key and the field, followed
// by `source` in parentheses.
Result<Keystore> parse_native_keystore(SecretView bytes,
                                       std::string_view source);

// Serialize `keystore` in the canonical layout: two-space indented JSON, the
// field order of stekctl-keystore(5), a final newline. Parsing the result
// and serializing again gives the same bytes.
SecretBytes serialize_native_keystore(const Keystore& keystore);

// Read and parse the keystore file at `path`.
Result<Keystore> load_native_keystore(const std::filesystem::path& path);

// Validate `keystore` and replace the file at `path` with it atomically
// (mode 0600).
Result<void> save_native_keystore(const std::filesystem::path& path,
                                  const Keystore& keystore);

} // namespace stek::formats
