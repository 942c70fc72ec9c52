// SPDX-License-Identifier: Apache-2.0
// IANA names of the cipher suites OpenSSL, Go and s2n-tls negotiate
// (https://www.iana.org/assignments/tls-parameters, "TLS Cipher Suites").
#include <stek/inspect/session_facts.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <utility>

namespace stek::inspect {
namespace {

struct Suite {
  std::uint16_t value;
  std::string_view name;
};

// Sorted by value for the binary search below.
constexpr std::array k_suites = {
  Suite{0x0005, "TLS_RSA_WITH_RC4_128_SHA"},
  Suite{0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"},
  Suite{0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA"},
  Suite{0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA"},
  Suite{0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA"},
  Suite{0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA"},
  Suite{0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"},
  Suite{0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256"},
  Suite{0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256"},
  Suite{0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256"},
  Suite{0x006B, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256"},
  Suite{0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256"},
  Suite{0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384"},
  Suite{0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"},
  Suite{0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"},
  Suite{0x1301, "TLS_AES_128_GCM_SHA256"},
  Suite{0x1302, "TLS_AES_256_GCM_SHA384"},
  Suite{0x1303, "TLS_CHACHA20_POLY1305_SHA256"},
  Suite{0x1304, "TLS_AES_128_CCM_SHA256"},
  Suite{0x1305, "TLS_AES_128_CCM_8_SHA256"},
  Suite{0xC007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA"},
  Suite{0xC008, "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA"},
  Suite{0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"},
  Suite{0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"},
  Suite{0xC011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA"},
  Suite{0xC012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"},
  Suite{0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"},
  Suite{0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"},
  Suite{0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"},
  Suite{0xC024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"},
  Suite{0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"},
  Suite{0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"},
  Suite{0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
  Suite{0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
  Suite{0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
  Suite{0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
  Suite{0xC09C, "TLS_RSA_WITH_AES_128_CCM"},
  Suite{0xC09D, "TLS_RSA_WITH_AES_256_CCM"},
  Suite{0xC09E, "TLS_DHE_RSA_WITH_AES_128_CCM"},
  Suite{0xC09F, "TLS_DHE_RSA_WITH_AES_256_CCM"},
  Suite{0xC0AC, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM"},
  Suite{0xC0AD, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM"},
  Suite{0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
  Suite{0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
  Suite{0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
};

constexpr bool sorted() {
  for (std::size_t i = 1; i < k_suites.size(); ++i) {
    if (k_suites[i - 1].value >= k_suites[i].value) {
      return false;
    }
  }
  return true;
}
static_assert(sorted(), "k_suites must be sorted by value");

} // namespace

std::optional<std::string_view> cipher_suite_name(std::uint16_t suite) {
  const auto it = std::lower_bound(
    k_suites.begin(), k_suites.end(), suite,
    [](const Suite& entry, std::uint16_t value) { return entry.value < value; });
  if (it == k_suites.end() || it->value != suite) {
    return std::nullopt;
  }
  return it->name;
}

std::string protocol_name(std::uint16_t version) {
  switch (version) {
  case 0x0300: return "SSLv3";
  case 0x0301: return "TLSv1";
  case 0x0302: return "TLSv1.1";
  case 0x0303: return "TLSv1.2";
  case 0x0304: return "TLSv1.3";
  default: break;
  }
  char text[8];
  std::snprintf(text, sizeof text, "0x%04x", static_cast<unsigned>(version));
  return text;
}

} // namespace stek::inspect
