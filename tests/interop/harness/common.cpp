// SPDX-License-Identifier: Apache-2.0
#include "interop/harness/common.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>
#include <utility>

namespace stek::interop {

std::string to_hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out += digits[b >> 4];
    out += digits[b & 0x0f];
  }
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < text.size()) {
    auto end = text.find('\n', at);
    if (end == std::string::npos) {
      end = text.size();
    }
    auto line = text.substr(at, end - at);
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    out.push_back(std::move(line));
    at = end + 1;
  }
  return out;
}

Bytes random_bytes(std::size_t n) {
  Bytes out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()),
                 static_cast<int>(n)) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(
    reinterpret_cast<unsigned char*>(out.data()),
    reinterpret_cast<const unsigned char*>(bytes.data()),
    static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<Bytes> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return std::nullopt;
  }
  Bytes out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(
    reinterpret_cast<unsigned char*>(out.data()),
    reinterpret_cast<const unsigned char*>(text.data()),
    static_cast<int>(text.size()));
  if (n < 0) {
    return std::nullopt;
  }
  std::size_t len = static_cast<std::size_t>(n);
  for (std::size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) {
    --len;
  }
  out.resize(len);
  return out;
}

std::string openssl_errors() {
  std::string text;
  unsigned long code = 0;
  while ((code = ERR_get_error()) != 0) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    text += std::string(text.empty() ? "" : "; ") + buffer;
  }
  return text;
}

void fail_openssl(const std::string& what) {
  throw std::runtime_error(what + ": " + openssl_errors());
}

} // namespace stek::interop
