// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stek/crypto.hpp>
#include <stek/keystore.hpp>

#include <doctest/doctest.h>

#include <string_view>

namespace stek::test {

// Return the instant `text` (RFC 3339), failing the test if it is invalid.
inline Timestamp at(std::string_view text) {
  auto t = parse_time(text);
  REQUIRE(t.ok());
  return *t;
}

// Return a fresh generated key with the given times.
inline Key make_key(Timestamp created,
                    Timestamp not_before,
                    Timestamp encrypt_until,
                    Timestamp decrypt_until) {
  auto id = KeyId::random();
  auto material = random_secret(Material::k_size);
  REQUIRE(id.ok());
  REQUIRE(material.ok());
  return Key{*id,          created, not_before,  encrypt_until,
             decrypt_until, {},      Material{std::move(material).value()},
             std::nullopt, std::nullopt};
}

} // namespace stek::test
