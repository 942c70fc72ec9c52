// SPDX-License-Identifier: Apache-2.0
// Inputs are told apart by content, not by name.
#include <stek/inspect/input.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace stek::inspect;

namespace {

std::vector<std::uint8_t> bytes(const std::string& text) {
  return {text.begin(), text.end()};
}

} // namespace

TEST_CASE("inspect input: captures by their magic numbers") {
  CHECK(classify_input(std::vector<std::uint8_t>{0xd4, 0xc3, 0xb2, 0xa1, 2, 0}) ==
        InputKind::capture);
  CHECK(classify_input(std::vector<std::uint8_t>{0xa1, 0xb2, 0xc3, 0xd4, 0, 2}) ==
        InputKind::capture);
  CHECK(classify_input(std::vector<std::uint8_t>{0x4d, 0x3c, 0xb2, 0xa1, 2, 0}) ==
        InputKind::capture);
  CHECK(classify_input(std::vector<std::uint8_t>{0x0a, 0x0d, 0x0d, 0x0a, 0x1c,
                                                 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a}) ==
        InputKind::capture);
}

TEST_CASE("inspect input: PEM sessions, hex, base64 and binary") {
  CHECK(classify_input(bytes("junk\n-----BEGIN SSL SESSION PARAMETERS-----\nMII=\n")) ==
        InputKind::pem_session);
  CHECK(classify_input(bytes("00112233 44556677\n8899aabbccddeeff\n")) == InputKind::hex);
  CHECK(classify_input(bytes("00:11:22:33:AA:BB")) == InputKind::hex);
  CHECK(classify_input(bytes("AAECAwQFBgcICQ==")) == InputKind::base64);
  CHECK(classify_input(bytes("AAECAwQFBgcICQ")) == InputKind::base64);
  CHECK(classify_input(bytes("abc")) == InputKind::base64); // odd: not hex
  CHECK(classify_input(std::vector<std::uint8_t>{0x01, 0xff, 0x00, 0x7f}) ==
        InputKind::binary);
  CHECK(classify_input(bytes("   \n")) == InputKind::binary);
  CHECK(classify_input(bytes("hello, world")) == InputKind::binary);
}

TEST_CASE("inspect input: ticket text decodes whatever the wrapping") {
  const std::vector<std::uint8_t> expected{0x00, 0x01, 0x02, 0x03, 0xfe, 0xff};
  CHECK(*decode_ticket_text("000102\n03FEff\n", InputKind::hex) == expected);
  CHECK(*decode_ticket_text("00:01:02:03:fe:ff", InputKind::hex) == expected);
  CHECK(*decode_ticket_text("AAECA/7/", InputKind::base64) == expected);
  CHECK(*decode_ticket_text("AAEC\n A_7_", InputKind::base64) == expected);
  const std::vector<std::uint8_t> four{0x00, 0x01, 0x02, 0x03};
  CHECK(*decode_ticket_text("AAECAw", InputKind::base64) == four);
  CHECK_FALSE(decode_ticket_text("", InputKind::hex).ok());
  CHECK_FALSE(decode_ticket_text("A", InputKind::base64).ok());
  CHECK_FALSE(decode_ticket_text("0011", InputKind::binary).ok());
}
