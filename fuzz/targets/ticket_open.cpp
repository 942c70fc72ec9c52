// SPDX-License-Identifier: Apache-2.0
// TicketOpener::open and classify_ticket on any bytes. The keystore is fixed:
// an OpenSSL-family key imported with 32-byte AES and HMAC keys, and a
// generated key. The first input byte picks the server name (none, a name,
// a name to normalize, not a host name); the rest is the ticket. The seed
// corpus holds real tickets under these keys (written by the
// "fuzz seeds" test of stek_ticket_tests, which uses the same bytes), so
// the MAC, decryption and session-decoding paths are reached.
#include <stek/inspect/ticket_decode.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace {

stek::SecretBytes pattern(std::uint8_t first, std::size_t size) {
  stek::SecretBytes out(size);
  for (std::size_t i = 0; i < size; ++i) {
    out.reveal_mutable()[i] = static_cast<std::uint8_t>(first + i);
  }
  return out;
}

stek::KeyId id_of(std::uint8_t first) {
  stek::KeyId::Bytes bytes{};
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<std::uint8_t>(first + i);
  }
  return stek::KeyId(bytes);
}

stek::Keystore make_keystore() {
  const stek::Timestamp t(stek::Duration(1795910400));
  stek::Keystore ks;
  stek::Key imported{id_of(0xA0), t, t, t, t, {},
                     stek::ImportedKeys{pattern(0x40, 32), pattern(0x60, 32)},
                     std::string("nginx")};
  stek::Key generated{id_of(0xB0), t, t, t, t, {},
                      stek::Material{pattern(0x01, 32)}, std::nullopt};
  ks.keys.push_back(std::move(imported));
  ks.keys.push_back(std::move(generated));
  return ks;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const stek::Keystore keystore = make_keystore();
  static stek::inspect::TicketOpener opener(keystore);
  if (size == 0) {
    return 0;
  }
  std::optional<std::string> name;
  switch (data[0] % 4) {
  case 1: name = "a.example"; break;
  case 2: name = "A.Example."; break;
  case 3: name = "not a host"; break;
  default: break;
  }
  const std::span<const std::uint8_t> ticket(data + 1, size - 1);
  const auto guesses = stek::inspect::classify_ticket(ticket);
  if (guesses.empty()) {
    __builtin_trap();
  }
  const auto result = opener.open(ticket, name);
  if (result.status == stek::inspect::OpenResult::Status::opened &&
      !result.key_index) {
    __builtin_trap();
  }
  return 0;
}
