// SPDX-License-Identifier: Apache-2.0
// TicketOpener: find the keystore key that minted a ticket and open it.
//
// Formats are tried in a fixed order: OpenSSL family, s2n-tls, Go 1.19
// (named), Go 1.21+ (unnamed). A verified MAC or tag is conclusive, so the
// order only decides what is reported when nothing verifies: the first key
// that named the ticket (mac_failed), else no_key. Named formats cost one
// MAC per binding of the named key; only Go 1.21+ tickets, which carry no
// name, need a trial MAC per key and binding, and that trial is skipped
// once some key named the ticket.
#include <stek/inspect/ticket_decode.hpp>

#include <stek/crypto.hpp>
#include <stek/encoding.hpp>

#include "secret_cache.hpp"
#include "ticket_crypto.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace stek::inspect {
namespace {

using detail::Derived;
using detail::Scheme;
using detail::SecretCache;
using Bytes = std::span<const std::uint8_t>;

constexpr std::size_t k_name = 16;
constexpr std::size_t k_iv = 16;
constexpr std::size_t k_mac = 32;
// s2n-tls: version 1 | name 16 | info 32 | iv 12 | ciphertext | tag 16.
constexpr std::uint8_t k_s2n_version = 1;
constexpr std::size_t k_s2n_info = 32;
constexpr std::size_t k_s2n_iv = 12;
constexpr std::size_t k_s2n_header = 1 + k_name + k_s2n_info + k_s2n_iv;
constexpr std::size_t k_s2n_tag = 16;

struct TriedBinding {
  Binding binding;
  std::string name;
};

// The bindings to try, in order: the normalized server name if it is one,
// unbound, and no-sni when the connection sent no name. A name that is not
// a host name gets no per-name key (the providers issue no ticket for it).
std::vector<TriedBinding> bindings_for(const std::optional<std::string>& server_name) {
  std::vector<TriedBinding> out;
  if (server_name) {
    auto normalized = normalize_server_name(*server_name);
    if (normalized.ok()) {
      out.push_back({Binding::server_name(*normalized), "sni:" + *normalized});
    }
  }
  out.push_back({Binding::unbound(), "unbound"});
  if (!server_name) {
    out.push_back({Binding::no_server_name(), "no-sni"});
  }
  return out;
}

std::string binding_list(const std::vector<TriedBinding>& bindings) {
  std::string out;
  for (const auto& b : bindings) {
    out += (out.empty() ? "" : ", ") + b.name;
  }
  return out;
}

KeyId key_id_at(Bytes bytes) {
  KeyId::Bytes id{};
  std::copy_n(bytes.begin(), id.size(), id.begin());
  return KeyId(id);
}

// The fields every result shares.
OpenResult result_for(OpenResult::Status status,
                      TicketFormat format,
                      const KeyId& key_id,
                      std::size_t key_index,
                      std::string binding) {
  OpenResult out;
  out.status = status;
  out.format = format;
  out.key_id = key_id;
  out.key_index = key_index;
  out.binding = std::move(binding);
  return out;
}

// Attach the decoded session (or why it did not decode) to `out`.
void attach_session(OpenResult& out, Result<SessionFacts> decoded) {
  if (decoded.ok()) {
    out.session = std::move(decoded).value();
  } else {
    out.session_error = std::move(decoded).error().message;
  }
}

} // namespace

struct TicketOpener::Impl {
  explicit Impl(const Keystore& ks) : keystore(&ks) {}

  const Keystore* keystore;
  SecretCache cache;

  // What one open() call knows so far.
  struct Attempt {
    Bytes ticket;
    std::vector<TriedBinding> bindings;
    std::optional<OpenResult> named_failure;
  };

  std::shared_ptr<const Derived> derived(std::size_t index,
                                         const TriedBinding& b,
                                         Scheme scheme) {
    return cache.get(keystore->keys[index], index, b.binding, b.name, scheme);
  }

  void note_failure(Attempt& attempt,
                    TicketFormat format,
                    const KeyId& name,
                    std::size_t index,
                    std::string_view check) {
    if (attempt.named_failure) {
      return;
    }
    auto failure = result_for(OpenResult::Status::mac_failed, format, name,
                              index, "");
    failure.reason = describe_key(*keystore, index) + " names this " +
                     std::string(ticket_format_name(format)) +
                     " ticket but its " + std::string(check) +
                     " does not verify under any binding tried (" +
                     binding_list(attempt.bindings) + ")";
    attempt.named_failure = std::move(failure);
  }

  std::optional<OpenResult> try_openssl(Attempt& attempt);
  std::optional<OpenResult> openssl_zero_hmac(Attempt& attempt,
                                              std::size_t index);
  std::optional<OpenResult> try_s2n(Attempt& attempt);
  std::optional<OpenResult> try_go_named(Attempt& attempt);
  std::optional<OpenResult> try_go_unnamed(Attempt& attempt);
};

namespace {

constexpr std::array k_openssl_schemes = {Scheme::openssl32, Scheme::openssl16};

std::size_t scheme_size(Scheme scheme) {
  return scheme == Scheme::openssl32 ? 32 : 16;
}

// The parts of an OpenSSL-family ticket (size >= 64 checked by the caller).
struct OpensslParts {
  explicit OpensslParts(Bytes t)
    : name(t.first(k_name)), iv(t.subspan(k_name, k_iv)),
      ciphertext(t.subspan(k_name + k_iv, t.size() - k_name - k_iv - k_mac)),
      signed_part(t.first(t.size() - k_mac)), mac(t.last(k_mac)) {}
  Bytes name;
  Bytes iv;
  Bytes ciphertext;
  Bytes signed_part;
  Bytes mac;
};

} // namespace

std::optional<OpenResult> TicketOpener::Impl::try_openssl(Attempt& attempt) {
  if (attempt.ticket.size() < k_name + k_iv + k_mac) {
    return std::nullopt;
  }
  const OpensslParts parts(attempt.ticket);
  const KeyId name = key_id_at(parts.name);
  for (std::size_t index = 0; index < keystore->keys.size(); ++index) {
    if (keystore->keys[index].id != name) {
      continue;
    }
    for (const auto& b : attempt.bindings) {
      for (const Scheme scheme : k_openssl_schemes) {
        const auto d = derived(index, b, scheme);
        if (!d->available ||
            !detail::hmac_sha256_verifies(d->b.reveal(), parts.signed_part,
                                          parts.mac)) {
          continue;
        }
        auto plaintext = detail::aes_cbc_decrypt(d->a.view(), parts.iv,
                                                 parts.ciphertext);
        auto out = result_for(plaintext ? OpenResult::Status::opened
                                        : OpenResult::Status::decrypt_failed,
                              TicketFormat::openssl, name, index, b.name);
        out.secret_size = scheme_size(scheme);
        if (!plaintext) {
          out.reason = "HMAC verified under " + describe_key(*keystore, index) +
                       " but AES-CBC decryption failed (length or padding)";
          return out;
        }
        attach_session(out, decode_openssl_session(plaintext->reveal()));
        return out;
      }
    }
    if (auto zero = openssl_zero_hmac(attempt, index)) {
      return zero;
    }
    note_failure(attempt, TicketFormat::openssl, name, index, "HMAC");
  }
  return std::nullopt;
}

// Apache 2.4 on OpenSSL 3 hands OpenSSL an HMAC key from a stack buffer that
// is gone after start-up; its tickets verify under an all-zero HMAC key.
// HMAC pads short keys with zeros, so one 16-byte zero key covers 16 and 32.
// The binding and AES size are then unknown: the first that decrypts and
// decodes wins.
std::optional<OpenResult> TicketOpener::Impl::openssl_zero_hmac(Attempt& attempt,
                                                                std::size_t index) {
  const OpensslParts parts(attempt.ticket);
  const std::array<std::uint8_t, 16> zero{};
  if (!detail::hmac_sha256_verifies(zero, parts.signed_part, parts.mac)) {
    return std::nullopt;
  }
  const KeyId name = key_id_at(parts.name);
  std::optional<OpenResult> fallback;
  for (const auto& b : attempt.bindings) {
    for (const Scheme scheme : k_openssl_schemes) {
      const auto d = derived(index, b, scheme);
      if (!d->available) {
        continue;
      }
      auto plaintext = detail::aes_cbc_decrypt(d->a.view(), parts.iv,
                                               parts.ciphertext);
      if (!plaintext) {
        continue;
      }
      auto out = result_for(OpenResult::Status::opened, TicketFormat::openssl,
                            name, index, b.name);
      out.secret_size = scheme_size(scheme);
      out.all_zero_hmac_key = true;
      attach_session(out, decode_openssl_session(plaintext->reveal()));
      if (out.session) {
        return out;
      }
      if (!fallback) {
        fallback = std::move(out);
      }
    }
  }
  if (fallback) {
    return fallback;
  }
  auto out = result_for(OpenResult::Status::decrypt_failed,
                        TicketFormat::openssl, name, index, "");
  out.all_zero_hmac_key = true;
  out.reason = "HMAC verified under an all-zero key (Apache 2.4 bug) but no "
               "AES key of " + describe_key(*keystore, index) + " decrypts it";
  return out;
}

std::optional<OpenResult> TicketOpener::Impl::try_s2n(Attempt& attempt) {
  const Bytes t = attempt.ticket;
  if (t.size() < k_s2n_header + k_s2n_tag + 1 || t[0] != k_s2n_version) {
    return std::nullopt;
  }
  const Bytes name_bytes = t.subspan(1, k_name);
  const Bytes info = t.subspan(1 + k_name, k_s2n_info);
  const Bytes nonce = t.subspan(1 + k_name + k_s2n_info, k_s2n_iv);
  const Bytes ciphertext = t.subspan(k_s2n_header, t.size() - k_s2n_header - k_s2n_tag);
  const Bytes tag = t.last(k_s2n_tag);
  const KeyId name = key_id_at(name_bytes);
  for (std::size_t index = 0; index < keystore->keys.size(); ++index) {
    if (keystore->keys[index].id != name) {
      continue;
    }
    for (const auto& b : attempt.bindings) {
      const auto d = derived(index, b, Scheme::s2n);
      if (!d->available) {
        continue;
      }
      // ticket_key = HKDF(salt empty, aes_key, info = the ticket's info).
      auto ticket_key = hkdf_sha256(d->a.view(), {}, info, 32);
      if (!ticket_key.ok()) {
        continue;
      }
      SecretBytes aad = d->b.clone();
      aad.append(name_bytes);
      auto plaintext = detail::aes256_gcm_open(ticket_key->view(), nonce,
                                               aad.reveal(), ciphertext, tag);
      if (!plaintext) {
        continue;
      }
      auto out = result_for(OpenResult::Status::opened, TicketFormat::s2n,
                            name, index, b.name);
      attach_session(out, decode_s2n_state(plaintext->reveal()));
      return out;
    }
    note_failure(attempt, TicketFormat::s2n, name, index, "AES-GCM tag");
  }
  return std::nullopt;
}

std::optional<OpenResult> TicketOpener::Impl::try_go_named(Attempt& attempt) {
  const Bytes t = attempt.ticket;
  if (t.size() < k_name + k_iv + k_mac + 1) {
    return std::nullopt;
  }
  const Bytes name = t.first(k_name);
  for (std::size_t index = 0; index < keystore->keys.size(); ++index) {
    bool named = false;
    for (const auto& b : attempt.bindings) {
      const auto d = derived(index, b, Scheme::go);
      // Go's name is public (it travels in clear): a plain compare is fine.
      if (!d->available ||
          std::memcmp(d->a.reveal().data(), name.data(), k_name) != 0) {
        continue;
      }
      named = true;
      const Bytes h = d->a.reveal();
      if (!detail::hmac_sha256_verifies(h.subspan(32, 16), t.first(t.size() - k_mac),
                                        t.last(k_mac))) {
        continue;
      }
      auto plaintext = detail::aes128_ctr(
        SecretView(h.data() + 16, 16), t.subspan(k_name, k_iv),
        t.subspan(k_name + k_iv, t.size() - k_name - k_iv - k_mac));
      auto out = result_for(plaintext ? OpenResult::Status::opened
                                      : OpenResult::Status::decrypt_failed,
                            TicketFormat::go_named, key_id_at(name), index, b.name);
      if (!plaintext) {
        out.reason = "HMAC verified but AES-CTR failed";
        return out;
      }
      attach_session(out, decode_go_state(plaintext->reveal()));
      return out;
    }
    if (named) {
      note_failure(attempt, TicketFormat::go_named, key_id_at(name), index, "HMAC");
    }
  }
  return std::nullopt;
}

std::optional<OpenResult> TicketOpener::Impl::try_go_unnamed(Attempt& attempt) {
  const Bytes t = attempt.ticket;
  if (t.size() < k_iv + k_mac + 1 || attempt.named_failure) {
    return std::nullopt;
  }
  const Bytes signed_part = t.first(t.size() - k_mac);
  for (std::size_t index = 0; index < keystore->keys.size(); ++index) {
    for (const auto& b : attempt.bindings) {
      const auto d = derived(index, b, Scheme::go);
      if (!d->available) {
        continue;
      }
      const Bytes h = d->a.reveal();
      if (!detail::hmac_sha256_verifies(h.subspan(32, 16), signed_part,
                                        t.last(k_mac))) {
        continue;
      }
      auto plaintext = detail::aes128_ctr(SecretView(h.data() + 16, 16),
                                          t.first(k_iv),
                                          t.subspan(k_iv, t.size() - k_iv - k_mac));
      auto out = result_for(plaintext ? OpenResult::Status::opened
                                      : OpenResult::Status::decrypt_failed,
                            TicketFormat::go_unnamed, key_id_at(h), index, b.name);
      if (!plaintext) {
        out.reason = "HMAC verified but AES-CTR failed";
        return out;
      }
      attach_session(out, decode_go_state(plaintext->reveal()));
      return out;
    }
  }
  return std::nullopt;
}

TicketOpener::TicketOpener(const Keystore& keystore)
  : m_impl(std::make_unique<Impl>(keystore)) {}
TicketOpener::~TicketOpener() = default;
TicketOpener::TicketOpener(TicketOpener&&) noexcept = default;
TicketOpener& TicketOpener::operator=(TicketOpener&&) noexcept = default;

OpenResult TicketOpener::open(std::span<const std::uint8_t> ticket,
                              const std::optional<std::string>& server_name) {
  Impl::Attempt attempt{ticket, bindings_for(server_name), std::nullopt};
  if (auto r = m_impl->try_openssl(attempt)) {
    return std::move(*r);
  }
  if (auto r = m_impl->try_s2n(attempt)) {
    return std::move(*r);
  }
  if (auto r = m_impl->try_go_named(attempt)) {
    return std::move(*r);
  }
  if (auto r = m_impl->try_go_unnamed(attempt)) {
    return std::move(*r);
  }
  if (attempt.named_failure) {
    return std::move(*attempt.named_failure);
  }
  OpenResult out;
  out.status = OpenResult::Status::no_key;
  if (ticket.size() < k_iv + k_mac + 1) {
    out.reason = "a " + std::to_string(ticket.size()) +
                 "-byte ticket is too short to be an encrypted ticket "
                 "(a TLS 1.3 stateful ticket or session id?)";
  } else {
    out.reason = "no keystore key is named " +
                 hex_encode(ticket.first(k_name)) +
                 " or verifies the ticket's MAC under any binding tried (" +
                 binding_list(attempt.bindings) + ")";
  }
  return out;
}

} // namespace stek::inspect
