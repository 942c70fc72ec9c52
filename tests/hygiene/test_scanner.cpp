// SPDX-License-Identifier: Apache-2.0
// The scanner's positive control: a secret planted in each form it claims to
// find is found, under the right label, and ordinary output is not flagged.
// Without this, a scan that finds nothing would prove nothing.
#include "hygiene/secret_forms.hpp"

#include <doctest/doctest.h>

#include <random>
#include <string>

using namespace stek::hygiene;

namespace {

Bytes random_bytes(std::mt19937_64& rng, std::size_t n) {
  Bytes out(n);
  for (auto& b : out) {
    b = static_cast<std::uint8_t>(rng() & 0xff);
  }
  return out;
}

Bytes concat(const Bytes& a, const Bytes& b, const Bytes& c = {}) {
  Bytes out = a;
  out.insert(out.end(), b.begin(), b.end());
  out.insert(out.end(), c.begin(), c.end());
  return out;
}

std::string text_of(const Bytes& bytes) {
  return std::string(bytes.begin(), bytes.end());
}

// Whether scanning `text` reports the secret labelled `label`.
bool finds(const SecretScanner& scanner,
           const std::string& text,
           const std::string& label) {
  for (const auto& f : scanner.scan(text)) {
    if (f.secret == label) {
      return true;
    }
  }
  return false;
}

std::string with_colons(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    out += (i == 0 ? "" : ":") + hex.substr(i, 2);
  }
  return out;
}

std::string wrapped(const std::string& text, std::size_t width) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); i += width) {
    out += text.substr(i, width) + "\n";
  }
  return out;
}

} // namespace

TEST_CASE("secret scan: the scanner finds a secret planted in every form") {
  std::mt19937_64 rng(20261128);
  for (const std::size_t size : {16u, 32u, 48u, 80u}) {
    CAPTURE(size);
    SecretScanner scanner;
    const Bytes secret = random_bytes(rng, size);
    const Bytes other = random_bytes(rng, size);
    REQUIRE(scanner.add("the secret", secret));
    REQUIRE(scanner.add("another secret", other));
    CHECK_FALSE(scanner.add("a copy", secret));

    std::vector<std::pair<std::string, std::string>> planted;
    planted.emplace_back("raw", "x" + text_of(secret) + "y");
    planted.emplace_back("raw in binary",
                         text_of(concat(random_bytes(rng, 7), secret,
                                        random_bytes(rng, 5))));
    planted.emplace_back("hex", "key=" + hex_of(secret, false) + "\n");
    planted.emplace_back("HEX", "KEY " + hex_of(secret, true) + ".");
    planted.emplace_back("colon hex", with_colons(hex_of(secret, false)));
    for (const bool url : {false, true}) {
      for (const bool pad : {false, true}) {
        const std::string name = std::string(url ? "base64url" : "base64") +
                                 (pad ? " padded" : " unpadded");
        planted.emplace_back(name, "\"" + base64_of(secret, url, pad) + "\"");
        for (std::size_t filler = 0; filler < 6; ++filler) {
          const Bytes blob = concat(random_bytes(rng, filler), secret,
                                    random_bytes(rng, filler % 4));
          planted.emplace_back(name + " in a blob after " +
                                 std::to_string(filler) + " bytes",
                               "k " + base64_of(blob, url, pad) + " k");
        }
      }
    }
    const Bytes blob = concat(random_bytes(rng, 17), secret, random_bytes(rng, 9));
    planted.emplace_back("base64 wrapped at 64", wrapped(base64_of(blob, false, true), 64));
    planted.emplace_back("base64 wrapped at 76 with CRLF",
                         [&] {
                           auto s = wrapped(base64_of(blob, false, true), 76);
                           std::string out;
                           for (const char c : s) {
                             out += c == '\n' ? std::string("\r\n") : std::string(1, c);
                           }
                           return out;
                         }());
    planted.emplace_back("hex in JSON with escaped newlines",
                         "{\"k\": \"" + hex_of(secret, false).substr(0, 20) + "\\n" +
                           hex_of(secret, false).substr(20) + "\"}");
    // A Kubernetes Secret: base64 of a JSON file holding base64 of the
    // secret, and base64 of a HAProxy line holding base64 of a key blob.
    for (std::size_t lead = 0; lead < 3; ++lead) {
      const std::string json = std::string(lead, ' ') +
                               "{\"material\": \"" +
                               base64_of(secret, false, true) + "\"}\n";
      planted.emplace_back("base64 of JSON with base64, lead " + std::to_string(lead),
                           "data: " + base64_of(bytes_of(json), false, true));
      const std::string line =
        base64_of(concat(random_bytes(rng, 16 + lead), secret), false, true) + "\n";
      planted.emplace_back("base64 of a base64 line, lead " + std::to_string(lead),
                           base64_of(bytes_of(std::string(lead, '#') + line), false, true));
      planted.emplace_back("hex of JSON with base64, lead " + std::to_string(lead),
                           hex_of(bytes_of(json), lead == 1));
      const std::string hex_line = std::string(lead, '-') + hex_of(secret, true);
      planted.emplace_back("base64 of upper-case hex, lead " + std::to_string(lead),
                           base64_of(bytes_of(hex_line), false, false));
    }
    if (size > 16) {
      const Bytes first(secret.begin(), secret.begin() + 16);
      const Bytes last(secret.end() - 16, secret.end());
      planted.emplace_back("first half, hex", hex_of(first, false));
      planted.emplace_back("last half, base64 at offset 2",
                           base64_of(concat(random_bytes(rng, 2), last), false, false));
      planted.emplace_back("last half, raw", text_of(last));
    }
    for (const auto& [form, text] : planted) {
      CAPTURE(form);
      CHECK(finds(scanner, text, "the secret"));
      CHECK_FALSE(finds(scanner, text, "another secret"));
    }
  }
}

TEST_CASE("secret scan: the scanner names the form and leaves ordinary output alone") {
  std::mt19937_64 rng(7);
  SecretScanner scanner;
  const Bytes secret = random_bytes(rng, 32);
  REQUIRE(scanner.add("key 1 material", secret));
  CHECK(scanner.secrets() == 1);

  // The whole secret, and each of its halves, as printed and compacted.
  auto found = scanner.scan("a " + hex_of(secret, true) + " b");
  REQUIRE(found.size() == 6);
  CHECK(found[0].secret == "key 1 material");
  CHECK(found[0].form == "upper-case hex");
  CHECK(found[0].layout == "as printed");
  CHECK(found[0].offset == 2);
  CHECK(found[1].form == "upper-case hex, first 16 bytes");
  CHECK(found[2].form == "upper-case hex, last 16 bytes");
  CHECK(found[3].layout == "compacted");

  found = scanner.scan(base64_of(concat(Bytes{1}, secret), true, false));
  REQUIRE(!found.empty());
  CHECK(found[0].form == "base64url at offset 1 mod 3");

  // What stekctl prints: ids, times, states, other random bytes' hex and
  // base64, and the secret cut short of 16 bytes.
  std::string ordinary =
    "ID                                STATE         ENCRYPTS\n"
    "754f9f97da135371263a68664627e165  active        yes   2026-11-28T14:00:00Z\n";
  for (int i = 0; i < 50; ++i) {
    const Bytes noise = random_bytes(rng, 64);
    ordinary += hex_of(noise, false) + " " + base64_of(noise, false, true) + " " +
                base64_of(noise, true, false) + "\n" + text_of(noise);
  }
  ordinary += hex_of(Bytes(secret.begin(), secret.begin() + 15), false) + "\n";
  ordinary += base64_of(Bytes(secret.begin() + 3, secret.begin() + 14), false, true);
  CHECK(scanner.scan(ordinary).empty());

  // Messages show the output with the secret cut out.
  const auto shown = scanner.redacted("x=" + hex_of(secret, false) + ";");
  CHECK(shown == "x=<secret>;");
}
