// SPDX-License-Identifier: Apache-2.0
// Server-record decryption for one TLS 1.3 connection from its key log
// secrets. The key phase is found by trial rather than by following the
// handshake:
//
// - Records are tried under the handshake key (SERVER_HANDSHAKE_TRAFFIC_
//   SECRET) at its next sequence number until one fails; then under the
//   application key (SERVER_TRAFFIC_SECRET_0) at its next sequence number,
//   which is 0 until a record has opened under it. Once an application
//   record opens, the handshake key is never tried again.
// - So with only SERVER_TRAFFIC_SECRET_0 logged, the handshake records fail
//   (Errc::crypto) and the first application record, usually the first
//   NewSessionTicket, opens at sequence 0; decryption continues in
//   sequence from there.
// - KeyUpdate: when the application key fails after it has opened at least
//   one record, the next generation's key (HKDF-Expand-Label(secret,
//   "traffic upd", "", Hash.length), RFC 8446 section 7.2) is tried at
//   sequence 0 and replaces it if it opens the record. Only one generation
//   ahead is tried.
// - A failed record advances nothing, so a record that was not sent by the
//   server, or was damaged, does not desynchronise the later ones. A record
//   missing from the capture does: later records of that phase then fail
//   (a missing handshake record still leaves the application phase).
#include <stek/inspect/keylog.hpp>

#include "inspect/keylog/tls13_keys.hpp"

#include <map>
#include <optional>

namespace stek::inspect {
namespace {

// TLSCiphertext.length must not exceed 2^14 + 256 (RFC 8446 section 5.2).
constexpr std::size_t k_max_ciphertext = (std::size_t{1} << 14) + 256;
constexpr std::uint8_t k_application_data = 23;

class KeylogDecryptor final : public ServerRecordDecryptor {
public:
  KeylogDecryptor(tls13::Suite suite,
                  std::optional<tls13::TrafficKey> handshake,
                  std::optional<tls13::TrafficKey> application)
    : m_suite(std::move(suite)), m_handshake(std::move(handshake)),
      m_application(std::move(application)) {}

  Result<Inner> open(std::span<const std::uint8_t> record) override {
    STEK_TRY(check_header(record));
    Inner inner;
    STEK_ENSURE(try_keys(record, inner.plaintext), Errc::crypto,
                "no server traffic secret in the key log authenticates this "
                "record");
    // TLSInnerPlaintext: content, then the real type, then zero padding.
    auto& plain = inner.plaintext;
    while (!plain.empty() && plain.back() == 0) {
      plain.pop_back();
    }
    STEK_ENSURE(!plain.empty(), Errc::parse,
                "decrypted record has no content type (all padding)");
    inner.content_type = plain.back();
    plain.pop_back();
    return inner;
  }

private:
  static Result<void> check_header(std::span<const std::uint8_t> record) {
    STEK_ENSURE(record.size() >= tls13::k_header_size, Errc::parse,
                "TLS record shorter than its header");
    STEK_ENSURE(record[0] == k_application_data, Errc::parse,
                "not an encrypted TLS 1.3 record (type " +
                  std::to_string(record[0]) + ")");
    const std::size_t length = (std::size_t{record[3]} << 8) | record[4];
    STEK_ENSURE(length == record.size() - tls13::k_header_size, Errc::parse,
                "TLS record length does not match its header");
    STEK_ENSURE(length > tls13::k_tag_size && length <= k_max_ciphertext,
                Errc::parse,
                "encrypted TLS record of " + std::to_string(length) +
                  " bytes is out of range");
    return {};
  }

  bool try_keys(std::span<const std::uint8_t> record,
                std::vector<std::uint8_t>& out) {
    if (!m_in_application && m_handshake && m_handshake->open(record, out)) {
      return true;
    }
    if (!m_application) {
      return false;
    }
    if (m_application->open(record, out)) {
      m_in_application = true;
      return true;
    }
    if (m_application->sequence() == 0) {
      return false;
    }
    return try_key_update(record, out);
  }

  bool try_key_update(std::span<const std::uint8_t> record,
                      std::vector<std::uint8_t>& out) {
    if (!m_next) {
      auto next_secret = tls13::expand_label(
        m_suite, m_application->secret(), "traffic upd", m_suite.hash_size);
      if (!next_secret.ok()) {
        return false;
      }
      auto next = tls13::TrafficKey::derive(m_suite, next_secret->view());
      if (!next.ok()) {
        return false;
      }
      m_next.emplace(std::move(next).value());
    }
    if (!m_next->open(record, out)) {
      return false;
    }
    m_application = std::move(m_next);
    m_next.reset();
    return true;
  }

  tls13::Suite m_suite;
  std::optional<tls13::TrafficKey> m_handshake;
  std::optional<tls13::TrafficKey> m_application;
  std::optional<tls13::TrafficKey> m_next; // after a KeyUpdate, made lazily
  bool m_in_application = false;
};

class KeylogDecryptorFactory final : public RecordDecryptorFactory {
public:
  explicit KeylogDecryptorFactory(const Keylog& keylog) : m_keylog(keylog) {}

  std::unique_ptr<ServerRecordDecryptor>
  for_connection(std::span<const std::uint8_t, 32> client_random,
                 std::uint16_t cipher_suite) override {
    const SecretBytes* handshake_secret =
      m_keylog.find("SERVER_HANDSHAKE_TRAFFIC_SECRET", client_random);
    const SecretBytes* application_secret =
      m_keylog.find("SERVER_TRAFFIC_SECRET_0", client_random);
    if (!handshake_secret && !application_secret) {
      return nullptr;
    }
    const tls13::Suite* suite = suite_for(cipher_suite);
    if (!suite) {
      return nullptr;
    }
    // A secret of the wrong size for the suite's hash (a key log of another
    // connection's suite) is unusable and left out.
    auto handshake = key_from(*suite, handshake_secret);
    auto application = key_from(*suite, application_secret);
    if (!handshake && !application) {
      return nullptr;
    }
    return std::make_unique<KeylogDecryptor>(*suite, std::move(handshake),
                                             std::move(application));
  }

private:
  // Return `id` with its algorithms, fetched on first use, or null.
  const tls13::Suite* suite_for(std::uint16_t id) {
    auto it = m_suites.find(id);
    if (it == m_suites.end()) {
      auto fetched = tls13::fetch_suite(id);
      std::optional<tls13::Suite> suite;
      if (fetched.ok()) {
        suite = std::move(fetched).value();
      }
      it = m_suites.emplace(id, std::move(suite)).first;
    }
    return it->second ? &*it->second : nullptr;
  }

  static std::optional<tls13::TrafficKey> key_from(const tls13::Suite& suite,
                                                   const SecretBytes* secret) {
    if (!secret) {
      return std::nullopt;
    }
    auto key = tls13::TrafficKey::derive(suite, secret->view());
    if (!key.ok()) {
      return std::nullopt;
    }
    return std::move(key).value();
  }

  const Keylog& m_keylog;
  std::map<std::uint16_t, std::optional<tls13::Suite>> m_suites;
};

} // namespace

std::unique_ptr<RecordDecryptorFactory>
make_keylog_decryptors(const Keylog& keylog) {
  return std::make_unique<KeylogDecryptorFactory>(keylog);
}

} // namespace stek::inspect
