// SPDX-License-Identifier: Apache-2.0
// A C++ program outside the project, built against an installed libstek:
// core (a key id, times, a new keystore) and formats (the native keystore
// written and read back). ../check_install.sh compares its output.
#include <stek/formats/native_keystore.hpp>
#include <stek/key.hpp>
#include <stek/rotation.hpp>
#include <stek/time.hpp>

#include <cstdio>

int main() {
  auto id = stek::KeyId::random();
  auto start = stek::parse_time("2026-01-01T00:00:00Z");
  if (!id || !start) {
    std::fprintf(stderr, "consumer: no key id or time\n");
    return 1;
  }
  auto created = stek::create_keystore(stek::Policy{}, *start);
  if (!created) {
    std::fprintf(stderr, "consumer: %s\n", created.error().message.c_str());
    return 1;
  }
  auto bytes = stek::formats::serialize_native_keystore(*created);
  auto parsed = stek::formats::parse_native_keystore(bytes.view(), "consumer");
  if (!parsed || parsed->keys.empty()) {
    std::fprintf(stderr, "consumer: the keystore did not read back\n");
    return 1;
  }
  std::printf("key id: %zu hex digits\n", id->hex().size());
  std::printf("keystore: %zu keys, the first from %s\n",
              parsed->keys.size(),
              stek::format_time(parsed->keys.front().not_before).c_str());
  return 0;
}
