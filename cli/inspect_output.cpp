// SPDX-License-Identifier: Apache-2.0
#include "inspect_output.hpp"

#include <stek/crypto.hpp>
#include <stek/encoding.hpp>

#include <cstdio>
#include <sstream>

namespace stekctl {
namespace {

namespace si = stek::inspect;

std::string hex16(std::uint16_t value) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%04x", value);
  return text;
}

// The key name as text when every byte is printable ASCII: some servers
// (s2n-tls users, hand-made nginx files) name keys with words.
std::optional<std::string> printable(const stek::KeyId& id) {
  std::string text;
  for (std::uint8_t b : id.bytes()) {
    if (b < 0x20 || b > 0x7e) {
      return std::nullopt;
    }
    text.push_back(static_cast<char>(b));
  }
  return text;
}

// Server names and ALPN come off the wire or out of a decrypted ticket, so
// they may hold any bytes: escape what is not printable ASCII, so that
// neither a terminal nor the JSON encoder (which refuses invalid UTF-8) is
// fed hostile bytes.
std::string safe_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto b = static_cast<std::uint8_t>(c);
    if (b < 0x20 || b > 0x7e || c == '\\') {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", b);
      out += escaped;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<std::string> safe_optional(const std::optional<std::string>& text) {
  if (!text) {
    return std::nullopt;
  }
  return safe_text(*text);
}

std::string endpoint_text(const si::Endpoint& e) {
  if (e.address.find(':') != std::string::npos) {
    return "[" + e.address + "]:" + std::to_string(e.port);
  }
  return e.address + ":" + std::to_string(e.port);
}

std::string cipher_text(std::uint16_t suite) {
  if (const auto name = si::cipher_suite_name(suite)) {
    return std::string(*name);
  }
  return hex16(suite);
}

Json session_json(const si::SessionFacts& s) {
  Json j;
  j["encoding"] = s.encoding;
  if (s.protocol) {
    j["protocol"] = si::protocol_name(*s.protocol);
  }
  if (s.cipher_suite) {
    j["cipher_suite"] = cipher_text(*s.cipher_suite);
    j["cipher_suite_id"] = hex16(*s.cipher_suite);
  }
  if (s.issued) {
    j["issued"] = stek::format_time(*s.issued);
  }
  if (s.lifetime) {
    j["lifetime_seconds"] = s.lifetime->count();
  }
  if (s.sni) {
    j["sni"] = safe_text(*s.sni);
  }
  if (s.alpn) {
    j["alpn"] = safe_text(*s.alpn);
  }
  if (s.client_certificate) {
    j["client_certificate"] = *s.client_certificate;
  }
  if (s.extended_master_secret) {
    j["extended_master_secret"] = *s.extended_master_secret;
  }
  return j;
}

std::string yes_no(std::optional<bool> value) {
  if (!value) {
    return "unknown";
  }
  return *value ? "yes" : "no";
}

std::string session_text(const si::SessionFacts& s) {
  std::ostringstream text;
  text << (s.protocol ? si::protocol_name(*s.protocol) : "protocol unknown");
  if (s.cipher_suite) {
    text << " " << cipher_text(*s.cipher_suite);
  }
  if (s.issued) {
    text << ", issued " << stek::format_time(*s.issued);
  }
  if (s.lifetime) {
    text << ", lifetime " << stek::format_duration(*s.lifetime);
  }
  text << "\n      SNI " << safe_optional(s.sni).value_or("(none)") << ", ALPN "
       << safe_optional(s.alpn).value_or("(none)") << ", client certificate "
       << yes_no(s.client_certificate) << ", extended master secret "
       << yes_no(s.extended_master_secret) << " (" << s.encoding << ")";
  return text.str();
}

std::string kind_text(si::MessageKind kind) {
  switch (kind) {
  case si::MessageKind::new_session_ticket: return "NewSessionTicket";
  case si::MessageKind::client_hello_session_ticket:
    return "ClientHello session_ticket";
  case si::MessageKind::client_hello_psk_identity:
    return "ClientHello pre_shared_key";
  case si::MessageKind::raw: return "ticket";
  case si::MessageKind::pem_session: return "saved session";
  }
  return "ticket";
}

std::string state_text(std::optional<stek::KeyState> state) {
  return state ? std::string(stek::key_state_name(*state)) : "unknown";
}

} // namespace

std::string format_capture_time(si::CaptureTime t) {
  const auto seconds = std::chrono::floor<std::chrono::seconds>(t);
  const auto micros = (t - seconds).count();
  std::string text = stek::format_time(seconds);
  char fraction[16];
  std::snprintf(fraction, sizeof fraction, ".%06lld",
                static_cast<long long>(micros));
  text.insert(text.size() - 1, fraction);
  return text;
}

Json ticket_report_json(const si::TicketReport& r) {
  const si::Sighting& s = r.sighting;
  Json j;
  j["input"] = s.input;
  if (s.capture) {
    j["frame"] = s.capture->frame;
    j["time"] = format_capture_time(s.capture->time);
    j["src"] = endpoint_text(s.capture->source);
    j["dst"] = endpoint_text(s.capture->destination);
  }
  j["message"] = si::message_kind_name(s.kind);
  j["index"] = s.index;
  if (s.tls_version) {
    j["tls_version"] = si::protocol_name(*s.tls_version);
  }
  if (s.sni) {
    j["sni"] = safe_text(*s.sni);
  }
  if (s.lifetime_hint) {
    j["lifetime_hint"] = *s.lifetime_hint;
  }
  if (s.decrypted_with_keylog) {
    j["decrypted_with_keylog"] = true;
  }
  j["length"] = s.ticket.size();
  // A digest, not the bytes: enough to follow one ticket across captures,
  // and safe when what was handed over as a ticket was a key file.
  j["ticket_sha256"] = stek::hex_encode(stek::sha256(s.ticket));
  j["format"] = si::ticket_format_name(r.format.format);
  j["format_confidence"] = si::confidence_name(r.format.confidence);
  if (r.format.key_id) {
    j["key_id"] = r.format.key_id->hex();
    if (const auto text = printable(*r.format.key_id)) {
      j["key_id_text"] = *text;
    }
  }
  if (r.key) {
    Json k;
    k["match"] = si::key_match_name(r.key->status);
    if (r.key->id) {
      k["id"] = r.key->id->hex();
    }
    if (r.key->state_at_capture) {
      k["state_at_capture"] = stek::key_state_name(*r.key->state_at_capture);
    }
    if (r.key->state_now) {
      k["state_now"] = stek::key_state_name(*r.key->state_now);
    }
    if (!r.key->binding.empty()) {
      k["binding"] = r.key->binding;
    }
    if (r.key->origin) {
      k["origin"] = *r.key->origin;
    }
    if (r.key->epoch) {
      k["epoch"] = *r.key->epoch;
    }
    if (r.key->all_zero_hmac_key) {
      k["all_zero_hmac_key"] = true;
    }
    j["key"] = std::move(k);
  }
  if (r.session) {
    j["session"] = session_json(*r.session);
  }
  if (r.error) {
    j["error"] = *r.error;
  }
  return j;
}

void print_ticket_report(std::ostream& out,
                         const si::TicketReport& r,
                         std::uint64_t number) {
  const si::Sighting& s = r.sighting;
  out << "ticket " << number << ": " << kind_text(s.kind);
  if (s.kind == si::MessageKind::client_hello_psk_identity) {
    out << " identity " << s.index;
  }
  out << " in " << s.input;
  if (s.capture) {
    out << " frame " << s.capture->frame << "\n  seen:     "
        << format_capture_time(s.capture->time) << "  "
        << endpoint_text(s.capture->source) << " -> "
        << endpoint_text(s.capture->destination);
  }
  out << "\n";
  if (s.tls_version || s.sni || s.lifetime_hint) {
    out << "  hello:    "
        << (s.tls_version ? si::protocol_name(*s.tls_version) : "TLS");
    if (s.cipher_suite) {
      out << " " << cipher_text(*s.cipher_suite);
    }
    out << ", SNI " << safe_optional(s.sni).value_or("(none)");
    if (s.lifetime_hint) {
      out << ", lifetime hint " << *s.lifetime_hint << "s";
    }
    if (s.decrypted_with_keylog) {
      out << " (decrypted with the key log)";
    }
    out << "\n";
  }
  out << "  ticket:   " << s.ticket.size() << " bytes, format "
      << si::ticket_format_name(r.format.format) << " ("
      << si::confidence_name(r.format.confidence);
  if (!r.format.reason.empty()) {
    out << ": " << r.format.reason;
  }
  out << ")\n";
  if (r.format.key_id) {
    out << "  key id:   " << r.format.key_id->hex();
    if (const auto text = printable(*r.format.key_id)) {
      out << " (\"" << *text << "\")";
    }
    out << "\n";
  }
  if (r.key) {
    out << "  key:      " << si::key_match_name(r.key->status);
    if (r.key->id) {
      out << " " << r.key->id->hex();
    }
    if (r.key->status == si::OpenResult::Status::opened) {
      out << ", ";
      if (r.key->state_at_capture) {
        out << state_text(r.key->state_at_capture) << " when seen, ";
      }
      out << state_text(r.key->state_now) << " now, binding "
          << r.key->binding;
      if (r.key->origin) {
        out << ", from " << *r.key->origin;
      }
      if (r.key->epoch) {
        out << ", epoch " << *r.key->epoch;
      }
    }
    out << "\n";
    if (r.key->all_zero_hmac_key) {
      out << "  warning:  the MAC verified under an all-zero HMAC key "
             "(Apache 2.4 mod_ssl): these tickets have no integrity\n";
    }
  }
  if (r.session) {
    out << "  session:  " << session_text(*r.session) << "\n";
  }
  if (r.error) {
    out << "  not decoded: " << *r.error << "\n";
  }
}

Json summary_json(const si::Summary& summary) {
  Json doc;
  doc["tickets"] = summary.tickets();
  doc["by_key"] = Json::array();
  for (const auto& [id, entry] : summary.by_key()) {
    Json k;
    k["key_id"] = id ? Json(id->hex()) : Json(nullptr);
    k["known"] = entry.known;
    if (entry.state_now) {
      k["state_now"] = stek::key_state_name(*entry.state_now);
    }
    Json counts = Json::object();
    for (std::size_t i = 0; i < si::k_message_kinds; ++i) {
      if (entry.counts[i] != 0) {
        counts[std::string(si::message_kind_name(
          static_cast<si::MessageKind>(i)))] = entry.counts[i];
      }
    }
    k["counts"] = std::move(counts);
    if (entry.first_seen) {
      k["first_seen"] = format_capture_time(*entry.first_seen);
      k["last_seen"] = format_capture_time(*entry.last_seen);
    }
    doc["by_key"].push_back(std::move(k));
  }
  if (summary.other_key_ids_tickets() != 0) {
    doc["other_key_ids_tickets"] = summary.other_key_ids_tickets();
  }
  doc["flags"] = Json::array();
  for (const auto& f : summary.findings()) {
    Json j;
    j["flag"] = si::finding_kind_name(f.kind);
    if (f.key_id) {
      j["key_id"] = f.key_id->hex();
    }
    j["message"] = si::message_kind_name(f.message);
    j["input"] = f.input;
    if (f.frame) {
      j["frame"] = *f.frame;
    }
    if (f.time) {
      j["time"] = format_capture_time(*f.time);
    }
    if (f.client_hello_sni) {
      j["client_hello_sni"] = safe_text(*f.client_hello_sni);
    }
    if (f.session_sni) {
      j["session_sni"] = safe_text(*f.session_sni);
    }
    doc["flags"].push_back(std::move(j));
  }
  if (summary.findings_dropped() != 0) {
    doc["flags_not_listed"] = summary.findings_dropped();
  }
  return doc;
}

void print_summary(std::ostream& out, const si::Summary& summary) {
  out << summary.tickets() << (summary.tickets() == 1 ? " ticket" : " tickets")
      << "\n\n";
  Table table({"KEY ID", "KNOWN", "NOW", "NST", "CH TICKET", "CH PSK",
               "OTHER", "FIRST SEEN", "LAST SEEN"});
  for (const auto& [id, e] : summary.by_key()) {
    using si::MessageKind;
    auto count = [&e](MessageKind kind) {
      return std::to_string(e.counts[static_cast<std::size_t>(kind)]);
    };
    const auto other = e.counts[static_cast<std::size_t>(MessageKind::raw)] +
                       e.counts[static_cast<std::size_t>(MessageKind::pem_session)];
    table.add_row({id ? id->hex() : "(no key id)", e.known ? "yes" : "no",
                   e.known ? state_text(e.state_now) : "-",
                   count(MessageKind::new_session_ticket),
                   count(MessageKind::client_hello_session_ticket),
                   count(MessageKind::client_hello_psk_identity),
                   std::to_string(other),
                   e.first_seen ? format_capture_time(*e.first_seen) : "-",
                   e.last_seen ? format_capture_time(*e.last_seen) : "-"});
  }
  table.print(out);
  if (summary.other_key_ids_tickets() != 0) {
    out << summary.other_key_ids_tickets()
        << " more tickets under further key ids (not listed one by one)\n";
  }
  if (summary.findings().empty()) {
    out << "\nno findings\n";
    return;
  }
  out << "\nfindings:\n";
  for (const auto& f : summary.findings()) {
    out << "  " << si::finding_kind_name(f.kind) << ": "
        << kind_text(f.message) << " in " << f.input;
    if (f.frame) {
      out << " frame " << *f.frame;
    }
    if (f.key_id) {
      out << ", key " << f.key_id->hex();
    }
    if (f.kind == si::FindingKind::cross_sni) {
      out << ": session for " << safe_optional(f.session_sni).value_or("?")
          << " presented with SNI "
          << safe_optional(f.client_hello_sni).value_or("?");
    }
    out << "\n";
  }
  if (summary.findings_dropped() != 0) {
    out << "  ... and " << summary.findings_dropped() << " more\n";
  }
}

} // namespace stekctl
