// SPDX-License-Identifier: Apache-2.0
// The NSS key log format (SSLKEYLOGFILE) that browsers, curl and
// `openssl s_client -keylogfile` write, and TLS 1.3 record decryption with
// its secrets, so stekctl inspect sees the encrypted NewSessionTickets.
#pragma once
#include <stek/inspect/capture.hpp>
#include <stek/result.hpp>
#include <stek/secret.hpp>
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace stek::inspect {

class Keylog {
public:
  // Parse key log text; `name` names the file in errors. Comment and blank
  // lines are skipped; a malformed line is Errc::parse naming the line.
  static Result<Keylog> parse(std::string_view text, std::string_view name);
  // Read and parse the file at `path`.
  static Result<Keylog> load(const std::string& path);

  // Return the secret logged under `label` (e.g. "SERVER_TRAFFIC_SECRET_0")
  // for `client_random`, or null.
  const SecretBytes* find(std::string_view label,
                          std::span<const std::uint8_t, 32> client_random) const;
  std::size_t size() const { return m_secrets.size(); }

private:
  std::map<std::pair<std::string, std::array<std::uint8_t, 32>>, SecretBytes>
    m_secrets;
};

// Return a factory of TLS 1.3 server-record decryptors backed by `keylog`
// (which must outlive it). Suites: TLS_AES_128_GCM_SHA256,
// TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256.
std::unique_ptr<RecordDecryptorFactory>
make_keylog_decryptors(const Keylog& keylog);

} // namespace stek::inspect
