// SPDX-License-Identifier: Apache-2.0
// A TLS 1.3 server-record decryptor from a fixed key log, fed the input
// split into records. The first input byte picks the connection: bits 0-1
// the suite (0x1301 + value; 3 asks for 0x1304, which must give no
// decryptor), bit 2 the client random whose key log entry has only
// SERVER_TRAFFIC_SECRET_0. The rest is records: each 5-byte header's length
// says how much follows (a short tail is fed as it is). The seed corpus
// holds server records of real OpenSSL connections re-sealed under these
// secrets (written by the "fuzz seeds" test of stek_keylog_tests, which
// builds the same key log), so the AEAD, padding, phase and KeyUpdate paths
// are reached.
#include <stek/inspect/keylog.hpp>

#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <array>
#include <span>
#include <string>
#include <vector>

namespace {

std::string hex_of(std::span<const std::uint8_t> bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (const std::uint8_t b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

std::array<std::uint8_t, 32> fuzz_random(std::size_t s, bool application_only) {
  std::array<std::uint8_t, 32> out{};
  out.fill(static_cast<std::uint8_t>((application_only ? 0x11 : 0x01) + s));
  return out;
}

std::vector<std::uint8_t> fuzz_secret(std::size_t s, bool application) {
  std::vector<std::uint8_t> out(s == 1 ? 48 : 32);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<std::uint8_t>((application ? 0x80 : 0) + 0x20 * s + i);
  }
  return out;
}

std::string fuzz_keylog() {
  std::string text = "# fixed key log of fuzz_tls13_records\n";
  for (std::size_t s = 0; s < 3; ++s) {
    text += "SERVER_HANDSHAKE_TRAFFIC_SECRET " + hex_of(fuzz_random(s, false)) +
            " " + hex_of(fuzz_secret(s, false)) + "\n";
    text += "SERVER_TRAFFIC_SECRET_0 " + hex_of(fuzz_random(s, false)) + " " +
            hex_of(fuzz_secret(s, true)) + "\n";
    text += "SERVER_TRAFFIC_SECRET_0 " + hex_of(fuzz_random(s, true)) + " " +
            hex_of(fuzz_secret(s, true)) + "\n";
  }
  return text;
}

const stek::inspect::Keylog& keylog() {
  static const stek::inspect::Keylog log = [] {
    auto parsed = stek::inspect::Keylog::parse(fuzz_keylog(), "fuzz keylog");
    if (!parsed.ok()) {
      __builtin_trap();
    }
    return std::move(parsed).value();
  }();
  return log;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto factory = stek::inspect::make_keylog_decryptors(keylog());
  if (size == 0) {
    return 0;
  }
  const std::size_t s = data[0] & 3;
  const bool application_only = (data[0] & 4) != 0;
  auto decryptor = factory->for_connection(
    fuzz_random(s == 3 ? 0 : s, application_only),
    static_cast<std::uint16_t>(0x1301 + s));
  if (s == 3) {
    if (decryptor) {
      __builtin_trap();
    }
    return 0;
  }
  if (!decryptor) {
    __builtin_trap();
  }
  std::span<const std::uint8_t> rest(data + 1, size - 1);
  while (!rest.empty()) {
    std::size_t take = rest.size();
    if (rest.size() >= 5) {
      take = std::min(rest.size(), 5 + ((std::size_t{rest[3]} << 8) | rest[4]));
    }
    auto inner = decryptor->open(rest.first(take));
    if (inner.ok() && inner->plaintext.size() > (std::size_t{1} << 14) + 256) {
      __builtin_trap();
    }
    if (!inner.ok() && inner.error().code != stek::Errc::crypto &&
        inner.error().code != stek::Errc::parse) {
      __builtin_trap();
    }
    rest = rest.subspan(take);
  }
  return 0;
}
