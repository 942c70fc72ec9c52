// SPDX-License-Identifier: Apache-2.0
#include <stek/encoding.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace {

std::string decoded_text(std::string_view b64) {
  auto r = stek::base64_decode(b64);
  REQUIRE(r.ok());
  const auto bytes = r->reveal();
  return {bytes.begin(), bytes.end()};
}

} // namespace

TEST_CASE("stek::base64 round trip (RFC 4648 vectors)") {
  const std::vector<std::pair<std::string, std::string>> vectors = {
    {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
    {"foo", "Zm9v"},  {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    CAPTURE(plain);
    const std::vector<std::uint8_t> bytes(plain.begin(), plain.end());
    CHECK(stek::base64_encode(bytes) == encoded);
    stek::SecretBytes out;
    stek::base64_encode_into(stek::SecretBytes::copy_of(bytes).view(), out);
    CHECK(std::string(out.reveal().begin(), out.reveal().end()) == encoded);
    CHECK(decoded_text(encoded) == plain);
  }
}

TEST_CASE("stek::base64_decode every byte value") {
  std::vector<std::uint8_t> all(256);
  for (std::size_t i = 0; i < all.size(); ++i) {
    all[i] = static_cast<std::uint8_t>(i);
  }
  const auto encoded = stek::base64_encode(all);
  auto decoded = stek::base64_decode(encoded);
  REQUIRE(decoded.ok());
  CHECK(std::vector<std::uint8_t>(decoded->reveal().begin(),
                                  decoded->reveal().end()) == all);
}

TEST_CASE("stek::base64_decode is strict") {
  for (const char* bad : {"Zg=", "Zg", "Z===", "====", "Zm9v\n", " Zm9v",
                          "Zm9v Zm9v", "Zh==", "Zm9=", "Zm-v", "Zm_v",
                          "Zg==Zg==", "Zm9vYg=a"}) {
    const std::string text(bad);
    CAPTURE(text);
    CHECK_FALSE(stek::base64_decode(bad).ok());
  }
}

TEST_CASE("stek::hex") {
  const std::vector<std::uint8_t> bytes{0x00, 0xab, 0xff, 0x10};
  CHECK(stek::hex_encode(bytes) == "00abff10");
  auto lower = stek::hex_decode("00abff10");
  REQUIRE(lower.ok());
  CHECK(*lower == bytes);
  auto upper = stek::hex_decode("00ABFF10");
  REQUIRE(upper.ok());
  CHECK(*upper == bytes);
  CHECK_FALSE(stek::hex_decode("0").ok());
  CHECK_FALSE(stek::hex_decode("0g").ok());
}
