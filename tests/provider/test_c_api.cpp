// SPDX-License-Identifier: Apache-2.0
// The C API over the same provider.
#include "provider/provider_fixture.hpp"

#include <stek/stek.h>

#include <cstring>

using namespace stek;
using namespace stek::test;

TEST_CASE("C API: open, look up, reload, status and errors") {
  const auto now = std::chrono::floor<std::chrono::seconds>(
    std::chrono::system_clock::now());
  const auto ks = keystore_at(now - std::chrono::minutes(1), 2);
  save("ks.json", ks);

  stek_error error{};
  stek_provider* provider = nullptr;
  REQUIRE(stek_file_provider_open("missing.json", nullptr, &provider, &error) ==
          STEK_ERR_NOT_FOUND);
  CHECK(std::strstr(error.message, "missing.json") != nullptr);
  CHECK(std::string(stek_code_name(error.code)) == "not_found");
  CHECK(provider == nullptr);

  stek_file_options options;
  stek_file_options_init(&options);
  options.watch = STEK_WATCH_MANUAL;
  REQUIRE(stek_file_provider_open("ks.json", &options, &provider, &error) ==
          STEK_OK);

  stek_ticket_key key{};
  REQUIRE(stek_provider_encryption_key(provider, "a.example", 9, &key) == 1);
  CHECK(std::memcmp(key.id, ks.keys[0].id.bytes().data(), 16) == 0);
  const auto expected = expected_keys(ks.keys[0], Binding::server_name("a.example"));
  CHECK(std::memcmp(key.aes, expected.aes.reveal().data(), 32) == 0);
  CHECK(std::memcmp(key.hmac, expected.hmac.reveal().data(), 32) == 0);
  CHECK(key.has_material == 1);
  CHECK(key.renew == 0);

  stek_ticket_key next{};
  REQUIRE(stek_provider_decryption_key(provider, nullptr, 0,
                                       ks.keys[1].id.bytes().data(), &next) == 1);
  CHECK(next.renew == 1);
  const std::uint8_t unknown[16] = {};
  CHECK(stek_provider_decryption_key(provider, nullptr, 0, unknown, &next) == 0);
  stek_ticket_key_clear(&key);
  const stek_ticket_key zero{};
  CHECK(std::memcmp(&key, &zero, sizeof key) == 0);

  stek_status status{};
  stek_provider_status(provider, &status);
  CHECK(status.generation == 1);
  CHECK(status.ok == 1);
  CHECK(status.keys == 2);

  write_file("ks.json", "{}");
  CHECK(stek_provider_reload(provider, &error) != STEK_OK);
  CHECK(std::strstr(error.message, "ks.json") != nullptr);
  stek_provider_status(provider, &status);
  CHECK(status.ok == 0);
  CHECK(status.generation == 1);
  CHECK(stek_provider_encryption_key(provider, nullptr, 0, &key) == 1);
  stek_provider_free(provider);
}
