// SPDX-License-Identifier: Apache-2.0
// The NSS key log format
// (https://firefox-source-docs.mozilla.org/security/nss/legacy/key_log_format/):
// one `LABEL <client_random> <secret>` line per secret, hex, `#` comments.
// Parsing is one pass over the text; each entry costs one map insertion.
#include <stek/encoding.hpp>
#include <stek/inspect/keylog.hpp>

#include <stek/io.hpp>

#include <algorithm>
#include <array>
#include <string>

namespace stek::inspect {
namespace {

// The labels NSS, BoringSSL and OpenSSL write. Lines with other labels are
// skipped, so newer key log writers do not break older readers.
constexpr std::array<std::string_view, 8> k_labels = {
  "CLIENT_RANDOM",
  "CLIENT_EARLY_TRAFFIC_SECRET",
  "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
  "SERVER_HANDSHAKE_TRAFFIC_SECRET",
  "CLIENT_TRAFFIC_SECRET_0",
  "SERVER_TRAFFIC_SECRET_0",
  "EXPORTER_SECRET",
  "EARLY_EXPORTER_SECRET",
};

// The longest secret a line may carry: TLS 1.3 secrets are a hash long (32
// or 48 bytes), the TLS 1.2 master secret 48 bytes.
constexpr std::size_t k_max_secret = 64;
// Key logs of long browser sessions run to megabytes. The file is read
// whole and its secrets then take about 1.3 times its size again, so this
// bounds memory near 150 MiB: room for the secrets of 70,000 TLS 1.3
// connections. A bigger log is cut to the capture's connections with grep.
constexpr std::size_t k_max_file = std::size_t{64} << 20;

bool is_space(char c) { return c == ' ' || c == '\t'; }

bool is_label_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Split `line` at runs of spaces and tabs into at most `out.size()` fields;
// return how many there were (more than out.size() means too many).
std::size_t split_fields(std::string_view line,
                         std::span<std::string_view> out) {
  std::size_t count = 0;
  std::size_t pos = 0;
  while (pos < line.size()) {
    while (pos < line.size() && is_space(line[pos])) {
      ++pos;
    }
    if (pos == line.size()) {
      break;
    }
    std::size_t end = pos;
    while (end < line.size() && !is_space(line[end])) {
      ++end;
    }
    if (count < out.size()) {
      out[count] = line.substr(pos, end - pos);
    }
    ++count;
    pos = end;
  }
  return count;
}

bool is_known_label(std::string_view label) {
  return std::find(k_labels.begin(), k_labels.end(), label) != k_labels.end();
}

} // namespace

Result<Keylog> Keylog::parse(std::string_view text, std::string_view name) {
  Keylog out;
  // A byte order mark, as some Windows editors write.
  if (text.starts_with("\xEF\xBB\xBF")) {
    text.remove_prefix(3);
  }
  std::size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const std::size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size()
                                                         : newline + 1);
    while (!line.empty() && (line.back() == '\r' || is_space(line.back()))) {
      line.remove_suffix(1);
    }
    while (!line.empty() && is_space(line.front())) {
      line.remove_prefix(1);
    }
    if (line.empty() || line.front() == '#') {
      continue;
    }
    const auto where = [&] {
      return " (" + std::string(name) + " line " +
             std::to_string(line_number) + ")";
    };
    std::array<std::string_view, 3> fields;
    const std::size_t count = split_fields(line, fields);
    const std::string_view label = fields[0];
    STEK_ENSURE(std::all_of(label.begin(), label.end(), is_label_char),
                Errc::parse, "not a key log line" + where());
    if (!is_known_label(label)) {
      continue;
    }
    STEK_ENSURE(count == 3, Errc::parse,
                std::string(label) +
                  " line needs a client random and a secret, and nothing "
                  "else" +
                  where());
    std::array<std::uint8_t, 32> random{};
    STEK_ENSURE(fields[1].size() == 2 * random.size() &&
                  hex_decode_into(fields[1], random),
                Errc::parse, "client random is not 64 hex digits" + where());
    const std::string_view hex = fields[2];
    STEK_ENSURE(!hex.empty() && hex.size() % 2 == 0 &&
                  hex.size() <= 2 * k_max_secret,
                Errc::parse,
                "secret is not an even number of hex digits up to " +
                  std::to_string(2 * k_max_secret) + where());
    SecretBytes secret(hex.size() / 2);
    STEK_ENSURE(hex_decode_into(hex, secret.reveal_mutable()), Errc::parse,
                "secret is not hex" + where());
    // A later line for the same connection and label wins.
    out.m_secrets.insert_or_assign(std::pair(std::string(label), random),
                                   std::move(secret));
  }
  return out;
}

Result<Keylog> Keylog::load(const std::string& path) {
  STEK_TRY_ASSIGN(const auto contents, read_secret_file(path, k_max_file));
  const auto bytes = contents.reveal();
  return parse(std::string_view(reinterpret_cast<const char*>(bytes.data()),
                                bytes.size()),
               path);
}

const SecretBytes*
Keylog::find(std::string_view label,
             std::span<const std::uint8_t, 32> client_random) const {
  std::array<std::uint8_t, 32> random{};
  std::copy(client_random.begin(), client_random.end(), random.begin());
  const auto it = m_secrets.find(std::pair(std::string(label), random));
  return it == m_secrets.end() ? nullptr : &it->second;
}

} // namespace stek::inspect
