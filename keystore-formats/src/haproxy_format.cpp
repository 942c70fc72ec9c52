// SPDX-License-Identifier: Apache-2.0
// HAProxy tls-ticket-keys: one base64 key per line, name | AES | HMAC (the
// opposite of nginx's 80-byte order). It keeps the last three lines,
// previous, encrypting and next, and encrypts with the penultimate one
// (bind_parse_tls_ticket_keys and ssl_tlsext_ticket_key_cb, HAProxy 2.6).
#include "formats.hpp"
#include "openssl_family.hpp"

#include <stek/encoding.hpp>

namespace stek::formats::detail {
namespace {

constexpr std::size_t k_slots = 3;

// Fill HAProxy's three slots: the newest decrypt-only key before the
// encrypting key, the soonest pending key after it. A slot nothing can
// fill repeats the encrypting key, which HAProxy tries first anyway.
std::vector<const Key*> slots(const LiveKeys& live,
                              std::vector<std::string>& warnings) {
  std::vector<const Key*> decrypting = live.decrypting;
  const Key* next = nullptr;
  if (!live.pending.empty()) {
    next = live.pending.front();
  } else if (decrypting.size() >= 2) {
    // No successor is published yet: the second decrypt-only key is more
    // use in the "next" slot than a copy.
    next = decrypting[1];
    decrypting.erase(decrypting.begin() + 1);
  }
  const Key* previous = decrypting.empty() ? nullptr : decrypting.front();
  const std::size_t kept = (previous ? 1u : 0u) + (next ? 1u : 0u) + 1;
  const std::size_t live_count =
    1 + live.pending.size() + live.decrypting.size();
  if (live_count > kept) {
    warnings.push_back("HAProxy keeps three keys: " +
                       std::to_string(live_count - kept) +
                       " older decrypt-only or later pending key(s) are left "
                       "out; tickets under them get a full handshake");
  }
  if (!previous || !next) {
    warnings.push_back("HAProxy needs three lines and the keystore has fewer "
                       "live keys: the encrypting key fills the empty slot");
  }
  return {previous ? previous : live.encrypting, live.encrypting,
          next ? next : live.encrypting};
}

Result<Export> write_haproxy(const ExportRequest& request,
                             KeyFileLayout layout) {
  STEK_TRY_ASSIGN(const auto live, live_keys(request));
  Export out;
  SecretBytes text;
  const auto chosen = slots(live, out.warnings);
  const char* roles[k_slots] = {"previous", "encrypts", "next"};
  for (std::size_t i = 0; i < k_slots; ++i) {
    STEK_TRY_ASSIGN(auto file,
                    key_file(*chosen[i], request, layout, out.warnings));
    base64_encode_into(file.view(), text);
    text.append(std::string_view("\n"));
    out.keys.push_back({chosen[i]->id, roles[i]});
  }
  out.files.push_back({"", std::move(text)});
  return out;
}

// Split `text` into lines, dropping one trailing newline and any \r before
// a \n, as HAProxy does.
std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto end = text.find('\n');
    auto line = text.substr(0, end);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    lines.push_back(line);
    if (end == std::string_view::npos) {
      break;
    }
    text.remove_prefix(end + 1);
  }
  return lines;
}

Result<ServerKeys> read_haproxy(std::span<const FormatFile> files,
                                KeyFileLayout layout,
                                std::string_view origin) {
  STEK_ENSURE(files.size() == 1, Errc::invalid_argument,
              "a HAProxy import reads one tls-ticket-keys file");
  const auto& file = files.front();
  const auto bytes = file.contents.reveal();
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()),
                              bytes.size());
  const auto lines = lines_of(text);
  STEK_ENSURE(lines.size() >= k_slots, Errc::parse,
              "HAProxy needs at least 3 key lines, this file has " +
                std::to_string(lines.size()) + " (" + file.name + ")");
  ServerKeys out;
  if (lines.size() > k_slots) {
    out.warnings.push_back(
      "HAProxy uses only the last 3 lines; the first " +
      std::to_string(lines.size() - k_slots) + " of " + file.name +
      " are not imported");
  }
  // Every line is checked, as HAProxy refuses the whole file for one bad
  // line; only the last three are kept.
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto where = file.name + " line " + std::to_string(i + 1);
    auto decoded = base64_decode(lines[i]);
    STEK_ENSURE(decoded.ok(), Errc::parse, "not a base64 key (" + where + ")");
    STEK_TRY_ASSIGN(auto key,
                    parse_key_file(decoded->view(), layout, origin, where));
    if (i + k_slots >= lines.size()) {
      out.keys.push_back(std::move(key));
    }
  }
  // The penultimate line encrypts.
  out.keys[1].encrypting = true;
  // A key may fill two slots (stekctl's own export does when fewer than
  // three keys are live): keep it once, encrypting if either slot was.
  for (std::size_t i = 0; i < out.keys.size(); ++i) {
    for (std::size_t j = i + 1; j < out.keys.size();) {
      auto& a = out.keys[i];
      const auto& b = out.keys[j];
      if (a.id != b.id) {
        ++j;
        continue;
      }
      const auto& ka = std::get<ImportedKeys>(a.secret);
      const auto& kb = std::get<ImportedKeys>(b.secret);
      STEK_ENSURE(ct_equal(ka.aes.view(), kb.aes.view()) &&
                    ct_equal(ka.hmac.view(), kb.hmac.view()),
                  Errc::parse,
                  "two different keys are named " + a.id.hex() + " (" +
                    file.name + ")");
      a.encrypting = a.encrypting || b.encrypting;
      out.keys.erase(out.keys.begin() + static_cast<std::ptrdiff_t>(j));
    }
  }
  return out;
}

constexpr KeyFileLayout k_layout80{32, SecretOrder::aes_then_hmac};
constexpr KeyFileLayout k_layout48{16, SecretOrder::aes_then_hmac};

} // namespace

const ServerFormat k_haproxy_format{
  "haproxy",
  "HAProxy tls-ticket-keys file, base64 lines of 80 bytes (AES-256-CBC)",
  "80 bytes: name 0-15 | AES key 16-47 | HMAC key 48-79; 3 lines",
  "the penultimate line (previous, encrypting, next)",
  ExportShape::file,
  true,
  "tls-ticket-keys",
  [](const ExportRequest& r) { return write_haproxy(r, k_layout80); },
  [](std::span<const FormatFile> f, Timestamp) {
    return read_haproxy(f, k_layout80, "haproxy");
  },
};

const ServerFormat k_haproxy48_format{
  "haproxy48",
  "HAProxy tls-ticket-keys file, base64 lines of 48 bytes (AES-128-CBC)",
  "48 bytes: name 0-15 | AES key 16-31 | HMAC key 32-47; 3 lines",
  "the penultimate line (previous, encrypting, next)",
  ExportShape::file,
  true,
  "tls-ticket-keys",
  [](const ExportRequest& r) { return write_haproxy(r, k_layout48); },
  [](std::span<const FormatFile> f, Timestamp) {
    return read_haproxy(f, k_layout48, "haproxy48");
  },
};

} // namespace stek::formats::detail
