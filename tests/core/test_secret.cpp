// SPDX-License-Identifier: Apache-2.0
#include <stek/crypto.hpp>
#include <stek/encoding.hpp>
#include <stek/secret.hpp>

#include "vm_flags.hpp"

#include <doctest/doctest.h>

#include <type_traits>
#include <vector>

static_assert(!std::is_copy_constructible_v<stek::SecretBytes>);
static_assert(!std::is_copy_assignable_v<stek::SecretBytes>);
static_assert(std::is_nothrow_move_constructible_v<stek::SecretBytes>);
static_assert(!std::is_convertible_v<stek::SecretBytes, std::string>);

TEST_CASE("stek::SecretBytes moves, clones and appends") {
  auto a = stek::SecretBytes::copy_of(std::vector<std::uint8_t>{1, 2, 3});
  auto b = std::move(a);
  CHECK(a.empty());
  CHECK(b.size() == 3);
  auto c = b.clone();
  CHECK(stek::ct_equal(b.view(), c.view()));
  // Growing past the capacity many times keeps the contents.
  for (int i = 0; i < 1000; ++i) {
    c.append(static_cast<std::uint8_t>(i));
  }
  CHECK(c.size() == 1003);
  CHECK(c.reveal()[0] == 1);
  CHECK(c.reveal()[1002] == static_cast<std::uint8_t>(999));
  c.clear();
  CHECK(c.empty());
}

TEST_CASE("stek::ct_equal") {
  const auto a = stek::SecretBytes::copy_of(std::vector<std::uint8_t>{1, 2, 3});
  const auto b = stek::SecretBytes::copy_of(std::vector<std::uint8_t>{1, 2, 4});
  const auto c = stek::SecretBytes::copy_of(std::vector<std::uint8_t>{1, 2});
  CHECK(stek::ct_equal(a.view(), a.view()));
  CHECK_FALSE(stek::ct_equal(a.view(), b.view()));
  CHECK_FALSE(stek::ct_equal(a.view(), c.view()));
  CHECK(stek::ct_equal(stek::SecretView(), stek::SecretView()));
}

TEST_CASE("stek::cleanse wipes a string's whole capacity") {
  std::string text(100, 'x');
  text.resize(10);
  const char* data = text.data();
  stek::cleanse(text);
  CHECK(text.empty());
  // The buffer is kept (clear() does not free) and is now zero.
  CHECK(text.data() == data);
  for (std::size_t i = 0; i < 100; ++i) {
    CHECK(data[i] == '\0');
  }
}

TEST_CASE("stek::random_secret") {
  auto a = stek::random_secret(32);
  auto b = stek::random_secret(32);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->size() == 32);
  CHECK_FALSE(stek::ct_equal(a->view(), b->view()));
}

TEST_CASE("stek::hkdf_sha256 RFC 5869 test cases 1 and 3") {
  std::vector<std::uint8_t> ikm(22, 0x0b);
  const auto salt = *stek::hex_decode("000102030405060708090a0b0c");
  const auto info = *stek::hex_decode("f0f1f2f3f4f5f6f7f8f9");
  const auto key = stek::SecretBytes::copy_of(ikm);
  auto okm = stek::hkdf_sha256(key.view(), salt, info, 42);
  REQUIRE(okm.ok());
  CHECK(stek::hex_encode(okm->reveal()) ==
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208"
        "d5b887185865");
  // Test case 3: empty salt and info.
  auto okm3 = stek::hkdf_sha256(key.view(), {}, {}, 42);
  REQUIRE(okm3.ok());
  CHECK(stek::hex_encode(okm3->reveal()) ==
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395"
        "faa4b61a96c8");
  CHECK_FALSE(stek::hkdf_sha256(stek::SecretView(), {}, {}, 32).ok());
}

#if !defined(__SANITIZE_ADDRESS__)
TEST_CASE("secret memory is left out of core dumps unless asked") {
  // ctest runs this binary without STEK_SECRETS_IN_CORE_DUMPS.
  REQUIRE_FALSE(stek::secrets_in_core_dumps());
  auto small = stek::SecretBytes::copy_of(std::vector<std::uint8_t>(32, 0xab));
  stek::SecretBytes large(1 << 20);
  CHECK(stek::test::excluded_from_core_dumps(small.reveal().data()));
  CHECK(stek::test::excluded_from_core_dumps(large.reveal().data()));
  // Growing moves the bytes to new memory, excluded too.
  small.reserve(5000);
  CHECK(stek::test::excluded_from_core_dumps(small.reveal().data()));

  stek::set_secrets_in_core_dumps(true);
  CHECK(stek::secrets_in_core_dumps());
  CHECK_FALSE(stek::test::excluded_from_core_dumps(small.reveal().data()));
  CHECK_FALSE(stek::test::excluded_from_core_dumps(large.reveal().data()));
  stek::set_secrets_in_core_dumps(false);
  CHECK(stek::test::excluded_from_core_dumps(small.reveal().data()));
  CHECK(stek::test::excluded_from_core_dumps(large.reveal().data()));
}

TEST_CASE("a million small secrets share a few mappings") {
  // A page (and a mapping) per secret would hit vm.max_map_count (65530)
  // long before a large key log was read.
  const int before = stek::test::mapping_count();
  std::vector<stek::SecretBytes> secrets;
  secrets.reserve(1'000'000);
  for (int i = 0; i < 1'000'000; ++i) {
    secrets.push_back(stek::SecretBytes::copy_of(
      std::vector<std::uint8_t>(48, static_cast<std::uint8_t>(i))));
  }
  CHECK(stek::test::mapping_count() - before < 100);
  CHECK(secrets[999'999].reveal()[47] == static_cast<std::uint8_t>(999'999));
  // Freed chunks are reused, not mapped again.
  secrets.clear();
  const int after_free = stek::test::mapping_count();
  for (int i = 0; i < 1000; ++i) {
    secrets.push_back(stek::SecretBytes(48));
  }
  CHECK(stek::test::mapping_count() == after_free);
  // Reused memory comes back zeroed.
  CHECK(secrets.back().reveal()[0] == 0);
}
#endif
