// SPDX-License-Identifier: Apache-2.0
// PEM "SSL SESSION PARAMETERS" blocks, as PEM_write_bio_SSL_SESSION and
// `openssl s_client -sess_out` write them: base64 of the client's DER
// SSL_SESSION.
#include <stek/inspect/pem_session.hpp>

#include <stek/encoding.hpp>

#include "openssl_der.hpp"

#include <string>

namespace stek::inspect {
namespace {

constexpr std::string_view k_begin = "-----BEGIN SSL SESSION PARAMETERS-----";
constexpr std::string_view k_end = "-----END SSL SESSION PARAMETERS-----";

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
         c == '\v';
}

Result<PemSession> decode_block(std::string_view body, const std::string& block) {
  std::string base64;
  base64.reserve(body.size());
  for (const char c : body) {
    if (!is_space(c)) {
      base64 += c;
    }
  }
  auto der = base64_decode(base64);
  cleanse(base64);
  STEK_ENSURE(der.ok(), Errc::parse,
              block + ": bad base64 (" + der.error().message + ")");
  auto session = detail::parse_openssl_der(der->reveal());
  STEK_ENSURE(session.ok(), Errc::parse,
              block + ": " + session.error().message);
  PemSession out;
  out.ticket = std::move(session->ticket);
  out.lifetime_hint = session->lifetime_hint;
  out.client_view = std::move(session->facts);
  // In the client's copy [3] is the server's certificate, not a client's.
  out.client_view.client_certificate.reset();
  return out;
}

} // namespace

bool looks_like_pem_session(std::string_view text) {
  return text.find(k_begin) != std::string_view::npos;
}

Result<std::vector<PemSession>> read_pem_sessions(std::string_view text) {
  std::vector<PemSession> out;
  std::size_t pos = 0;
  while ((pos = text.find(k_begin, pos)) != std::string_view::npos) {
    const std::string block = "PEM block " + std::to_string(out.size() + 1);
    const std::size_t body = pos + k_begin.size();
    const std::size_t end = text.find(k_end, body);
    STEK_ENSURE(end != std::string_view::npos, Errc::parse,
                block + ": no END SSL SESSION PARAMETERS line");
    const auto next_begin = text.find(k_begin, body);
    STEK_ENSURE(next_begin == std::string_view::npos || next_begin > end,
                Errc::parse, block + ": BEGIN line inside the block");
    STEK_TRY_ASSIGN(auto session, decode_block(text.substr(body, end - body), block));
    out.push_back(std::move(session));
    pos = end + k_end.size();
  }
  STEK_ENSURE(!out.empty(), Errc::parse,
              "no BEGIN SSL SESSION PARAMETERS block found");
  return out;
}

} // namespace stek::inspect
