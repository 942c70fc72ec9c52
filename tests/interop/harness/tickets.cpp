// SPDX-License-Identifier: Apache-2.0
#include "interop/harness/tickets.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/pem.h>

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

namespace stek::interop {

Bytes read_ticket(const fs::path& session_pem) {
  BioPtr bio(BIO_new_file(session_pem.c_str(), "r"));
  REQUIRE_MESSAGE(bio != nullptr, "cannot open " << session_pem);
  SessionPtr session(PEM_read_bio_SSL_SESSION(bio.get(), nullptr, nullptr, nullptr));
  REQUIRE_MESSAGE(session != nullptr, "not a saved session: " << session_pem << ": "
                                                                << openssl_errors());
  const unsigned char* ticket = nullptr;
  std::size_t len = 0;
  SSL_SESSION_get0_ticket(session.get(), &ticket, &len);
  return ticket ? Bytes(reinterpret_cast<const char*>(ticket), len) : Bytes();
}

std::string key_id_of(const Bytes& ticket) {
  return ticket.size() < 16 ? std::string() : to_hex(std::string_view(ticket).substr(0, 16));
}

// ---------------------------------------------------------------------------
// Key files

std::size_t size_of(KeyLayout layout) {
  switch (layout) {
  case KeyLayout::nginx80:
  case KeyLayout::haproxy80:
  case KeyLayout::openssl80:
    return 80;
  default:
    return 48;
  }
}

bool aes_first(KeyLayout layout) {
  return layout == KeyLayout::nginx48 || layout == KeyLayout::haproxy80 ||
         layout == KeyLayout::haproxy48;
}

KeyParts split_key(const Bytes& file, KeyLayout layout) {
  REQUIRE_MESSAGE(file.size() == size_of(layout),
                  "a key of " << file.size() << " bytes, expected " << size_of(layout));
  const std::size_t half = (file.size() - 16) / 2;
  KeyParts k;
  k.name = file.substr(0, 16);
  const Bytes first = file.substr(16, half);
  const Bytes second = file.substr(16 + half, half);
  k.aes = aes_first(layout) ? first : second;
  k.hmac = aes_first(layout) ? second : first;
  return k;
}

Bytes join_key(const KeyParts& k, KeyLayout layout) {
  return k.name + (aes_first(layout) ? k.aes + k.hmac : k.hmac + k.aes);
}

// ---------------------------------------------------------------------------
// Ticket crypto

const EVP_CIPHER* cipher_for(const KeyParts& key) {
  return key.aes.size() == 32 ? EVP_aes_256_cbc() : EVP_aes_128_cbc();
}

Bytes hmac_sha256(const Bytes& key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return Bytes(reinterpret_cast<const char*>(mac), len);
}

std::optional<Bytes> open_ticket(const Bytes& ticket, const KeyParts& key) {
  if (ticket.size() < 16 + 16 + 16 + 32 || ticket.compare(0, 16, key.name) != 0) {
    return std::nullopt;
  }
  const std::string_view t(ticket);
  const auto mac = hmac_sha256(key.hmac, t.substr(0, t.size() - 32));
  if (CRYPTO_memcmp(mac.data(), t.data() + t.size() - 32, 32) != 0) {
    return std::nullopt;
  }
  const auto iv = t.substr(16, 16);
  const auto body = t.substr(32, t.size() - 64);
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  Bytes out(body.size() + 32, '\0');
  int n1 = 0;
  int n2 = 0;
  if (EVP_DecryptInit_ex(ctx.get(), cipher_for(key), nullptr,
                         reinterpret_cast<const unsigned char*>(key.aes.data()),
                         reinterpret_cast<const unsigned char*>(iv.data())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &n1,
                        reinterpret_cast<const unsigned char*>(body.data()),
                        static_cast<int>(body.size())) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + n1,
                          &n2) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  out.resize(static_cast<std::size_t>(n1 + n2));
  return out;
}

Bytes seal_ticket(const Bytes& session_der, const KeyParts& key) {
  const Bytes iv = random_bytes(16);
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  Bytes body(session_der.size() + 32, '\0');
  int n1 = 0;
  int n2 = 0;
  if (EVP_EncryptInit_ex(ctx.get(), cipher_for(key), nullptr,
                         reinterpret_cast<const unsigned char*>(key.aes.data()),
                         reinterpret_cast<const unsigned char*>(iv.data())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(body.data()), &n1,
                        reinterpret_cast<const unsigned char*>(session_der.data()),
                        static_cast<int>(session_der.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(body.data()) + n1,
                          &n2) != 1) {
    fail_openssl("ticket encryption");
  }
  body.resize(static_cast<std::size_t>(n1 + n2));
  const Bytes signed_part = key.name + iv + body;
  return signed_part + hmac_sha256(key.hmac, signed_part);
}

// ---------------------------------------------------------------------------
// Sessions

SessionPtr session_from_der(const Bytes& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  SessionPtr s(d2i_SSL_SESSION(nullptr, &p, static_cast<long>(der.size())));
  REQUIRE_MESSAGE(s != nullptr, "not a DER SSL_SESSION: " << openssl_errors());
  return s;
}

Bytes session_to_der(SSL_SESSION* session) {
  const int len = i2d_SSL_SESSION(session, nullptr);
  REQUIRE(len > 0);
  Bytes der(static_cast<std::size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  i2d_SSL_SESSION(session, &p);
  return der;
}

Bytes session_id_context_of(const Bytes& session_der) {
  const auto s = session_from_der(session_der);
  unsigned int len = 0;
  const unsigned char* ctx = SSL_SESSION_get0_id_context(s.get(), &len);
  return Bytes(reinterpret_cast<const char*>(ctx), len);
}

Bytes with_session_id_context(const Bytes& session_der, const Bytes& context) {
  const auto s = session_from_der(session_der);
  REQUIRE(SSL_SESSION_set1_id_context(
            s.get(), reinterpret_cast<const unsigned char*>(context.data()),
            static_cast<unsigned int>(context.size())) == 1);
  return session_to_der(s.get());
}

namespace {

struct Tlv {
  unsigned char tag = 0;
  std::size_t header = 0; // bytes before the value
  std::size_t length = 0; // value bytes
};

Tlv read_tlv(std::string_view der, std::size_t at) {
  REQUIRE(at + 2 <= der.size());
  Tlv t;
  t.tag = static_cast<unsigned char>(der[at]);
  const auto first = static_cast<unsigned char>(der[at + 1]);
  if (first < 0x80) {
    t.header = 2;
    t.length = first;
  } else {
    const std::size_t n = first & 0x7fu;
    REQUIRE((n >= 1 && n <= 4 && at + 2 + n <= der.size()));
    for (std::size_t i = 0; i < n; ++i) {
      t.length = (t.length << 8) | static_cast<unsigned char>(der[at + 2 + i]);
    }
    t.header = 2 + n;
  }
  REQUIRE(at + t.header + t.length <= der.size());
  return t;
}

Bytes write_tlv(unsigned char tag, const Bytes& value) {
  Bytes out(1, static_cast<char>(tag));
  const std::size_t n = value.size();
  if (n < 0x80) {
    out += static_cast<char>(n);
  } else {
    Bytes len;
    for (std::size_t v = n; v > 0; v >>= 8) {
      len.insert(len.begin(), static_cast<char>(v & 0xffu));
    }
    out += static_cast<char>(0x80u | len.size());
    out += len;
  }
  return out + value;
}

} // namespace

void write_session_with_ticket(const fs::path& session_pem, const Bytes& ticket,
                               const fs::path& out_pem) {
  BioPtr in(BIO_new_file(session_pem.c_str(), "r"));
  REQUIRE(in != nullptr);
  SessionPtr session(PEM_read_bio_SSL_SESSION(in.get(), nullptr, nullptr, nullptr));
  REQUIRE(session != nullptr);
  const Bytes der = session_to_der(session.get());
  const std::string_view d(der);
  const auto outer = read_tlv(d, 0);
  REQUIRE(outer.tag == 0x30);
  Bytes fields;
  bool replaced = false;
  for (std::size_t at = outer.header; at < outer.header + outer.length;) {
    const auto field = read_tlv(d, at);
    if (field.tag == 0xaa) { // [10] EXPLICIT OCTET STRING
      fields += write_tlv(0xaa, write_tlv(0x04, ticket));
      replaced = true;
    } else {
      fields += der.substr(at, field.header + field.length);
    }
    at += field.header + field.length;
  }
  REQUIRE_MESSAGE(replaced, "the saved session has no ticket: " << session_pem);
  const auto edited = session_from_der(write_tlv(0x30, fields));
  const unsigned char* check = nullptr;
  std::size_t check_len = 0;
  SSL_SESSION_get0_ticket(edited.get(), &check, &check_len);
  REQUIRE(Bytes(reinterpret_cast<const char*>(check), check_len) == ticket);
  BioPtr out(BIO_new_file(out_pem.c_str(), "w"));
  REQUIRE(out != nullptr);
  REQUIRE(PEM_write_bio_SSL_SESSION(out.get(), edited.get()) == 1);
}

Bytes nginx_http_session_id_context(const Certificate& cert) {
  unsigned char inner[EVP_MAX_MD_SIZE];
  unsigned int inner_len = 0;
  EVP_Digest(cert.der.data(), cert.der.size(), inner, &inner_len, EVP_sha1(),
             nullptr);
  const Bytes input =
    "HTTP" + Bytes(reinterpret_cast<const char*>(inner), inner_len);
  unsigned char outer[EVP_MAX_MD_SIZE];
  unsigned int outer_len = 0;
  EVP_Digest(input.data(), input.size(), outer, &outer_len, EVP_sha1(), nullptr);
  return Bytes(reinterpret_cast<const char*>(outer), outer_len);
}

// ---------------------------------------------------------------------------
// Generated keys

Bytes hkdf_sha256(const Bytes& key, const std::string& info, std::size_t size) {
  Owned<EVP_KDF, EVP_KDF_free> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  Owned<EVP_KDF_CTX, EVP_KDF_CTX_free> ctx(kdf ? EVP_KDF_CTX_new(kdf.get()) : nullptr);
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {
    OSSL_PARAM_construct_utf8_string("digest", digest, 0),
    OSSL_PARAM_construct_octet_string("key", const_cast<char*>(key.data()), key.size()),
    OSSL_PARAM_construct_octet_string("info", const_cast<char*>(info.data()), info.size()),
    OSSL_PARAM_construct_end()};
  Bytes out(size, '\0');
  if (!ctx || EVP_KDF_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), size,
                             params) != 1) {
    fail_openssl("HKDF");
  }
  return out;
}

KeyParts generated_key_parts(const fs::path& keystore, const std::string& id,
                             std::size_t file_size) {
  const auto doc = stek::test::load_json_file(keystore);
  REQUIRE_MESSAGE(doc.is_object(), "cannot read " << keystore);
  for (const auto& key : doc.at("keys")) {
    if (key.at("id") != id) {
      continue;
    }
    REQUIRE_MESSAGE(key.contains("material"), "key " << id << " has no material");
    const auto material = base64_decode(key.at("material").get<std::string>());
    REQUIRE((material && material->size() == 32));
    const bool wide = file_size == 80;
    KeyParts parts;
    for (std::size_t i = 0; i < id.size(); i += 2) {
      parts.name += static_cast<char>(std::stoi(id.substr(i, 2), nullptr, 16));
    }
    parts.aes = hkdf_sha256(*material,
                            wide ? "stekctl/v1 openssl aes-256-cbc" : "stekctl/v1 openssl aes-128-cbc",
                            wide ? 32 : 16);
    parts.hmac = hkdf_sha256(*material,
                             wide ? "stekctl/v1 openssl hmac-sha256 32"
                                  : "stekctl/v1 openssl hmac-sha256 16",
                             wide ? 32 : 16);
    return parts;
  }
  FAIL("no key " << id << " in " << keystore);
  return {};
}

} // namespace stek::interop
