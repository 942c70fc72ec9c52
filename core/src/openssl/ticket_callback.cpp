// SPDX-License-Identifier: Apache-2.0
#include <stek/openssl_tickets.hpp>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>
#include <mutex>

namespace stek::openssl {
namespace {

// The server name of one connection's ClientHello, kept in the SSL's ex
// data from the ClientHello callback until the ticket callback runs.
struct HelloName {
  // The provider of the context the connection was made with: after an SNI
  // callback switched contexts, SSL_get_SSL_CTX() is no longer that one.
  Provider* provider = nullptr;
  bool present = false;
  // A name that cannot be a host name (too long) is kept as invalid, so
  // that it gets no key rather than the "no SNI" ones.
  bool valid = false;
  std::uint8_t size = 0;
  char name[255] = {};
};

struct Indexes {
  int ctx = -1; // std::shared_ptr<Provider>*
  int ssl = -1; // HelloName*
  EVP_CIPHER* aes = nullptr;
};

void free_provider(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<std::shared_ptr<Provider>*>(ptr);
}

void free_hello(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  OPENSSL_clear_free(ptr, sizeof(HelloName));
}

const Indexes& indexes() {
  static Indexes the;
  static std::once_flag once;
  std::call_once(once, [] {
    the.ctx = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr,
                                       free_provider);
    the.ssl = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, free_hello);
    // Fetched once: an implicit fetch on every ticket costs a lookup in
    // OpenSSL's provider tables.
    the.aes = EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr);
  });
  return the;
}

Provider* provider_of(SSL_CTX* ctx) {
  auto* held = static_cast<std::shared_ptr<Provider>*>(
    SSL_CTX_get_ex_data(ctx, indexes().ctx));
  return held ? held->get() : nullptr;
}

// Read the first host_name of a server_name extension (RFC 6066 3).
void parse_server_name(const unsigned char* data, std::size_t size,
                       HelloName& hello) {
  if (size < 2) {
    return;
  }
  const std::size_t list = (std::size_t{data[0]} << 8) | data[1];
  if (list + 2 != size) {
    return;
  }
  std::size_t at = 2;
  while (at + 3 <= size) {
    const unsigned type = data[at];
    const std::size_t length =
      (std::size_t{data[at + 1]} << 8) | data[at + 2];
    at += 3;
    if (at + length > size) {
      return;
    }
    if (type == 0) { // host_name
      hello.present = true;
      hello.valid = length > 0 && length <= sizeof hello.name;
      if (hello.valid) {
        std::memcpy(hello.name, data + at, length);
        hello.size = static_cast<std::uint8_t>(length);
      }
      return;
    }
    at += length;
  }
}

int client_hello_callback(SSL* ssl, int*, void*) {
  return note_client_hello(ssl) == 1 ? SSL_CLIENT_HELLO_SUCCESS
                                     : SSL_CLIENT_HELLO_ERROR;
}

std::optional<std::string_view> server_name(const HelloName* hello, SSL* ssl,
                                            bool& usable) {
  usable = true;
  if (hello) {
    if (!hello->present) {
      return std::nullopt;
    }
    usable = hello->valid;
    return std::string_view(hello->name, hello->size);
  }
  // No ClientHello callback ran: the best there is.
  if (const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) {
    return std::string_view(name);
  }
  return std::nullopt;
}

int init_mac(EVP_MAC_CTX* mac, const TicketKey& key) {
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {
    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
    OSSL_PARAM_construct_end()};
  const auto hmac = key.hmac().reveal();
  return EVP_MAC_init(mac, hmac.data(), hmac.size(), params);
}

// OpenSSL's ticket key callback: 1 = key set, 2 = key set and the ticket
// should be renewed, 0 = no key (no ticket issued, or a full handshake),
// -1 = error.
int ticket_callback(SSL* ssl, unsigned char key_name[16], unsigned char* iv,
                    EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, int encrypt) {
  const auto* hello =
    static_cast<const HelloName*>(SSL_get_ex_data(ssl, indexes().ssl));
  Provider* provider = hello && hello->provider
                         ? hello->provider
                         : provider_of(SSL_get_SSL_CTX(ssl));
  if (!provider) {
    return 0;
  }
  bool usable = true;
  const auto sni = server_name(hello, ssl, usable);
  if (!usable) {
    return 0;
  }
  const auto& aes = indexes().aes;
  if (encrypt) {
    auto key = provider->encryption_key(sni);
    if (!key) {
      return 0;
    }
    if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(aes)) != 1) {
      return -1;
    }
    std::memcpy(key_name, key->id.bytes().data(), KeyId::k_size);
    if (EVP_EncryptInit_ex(cipher, aes, nullptr, key->aes().reveal().data(),
                           iv) != 1 ||
        init_mac(mac, *key) != 1) {
      return -1;
    }
    return 1;
  }
  auto key = provider->decryption_key(sni, KeyIdView(key_name, KeyId::k_size));
  if (!key) {
    return 0;
  }
  if (init_mac(mac, *key) != 1 ||
      EVP_DecryptInit_ex(cipher, aes, nullptr, key->aes().reveal().data(),
                         iv) != 1) {
    return -1;
  }
  // TLS 1.3 tickets are renewed on every resumption, as OpenSSL's built-in
  // keys do: clients use a TLS 1.3 ticket once (RFC 8446, C.4), so without
  // a fresh one every other connection would be a full handshake.
  return key->renew || SSL_version(ssl) == TLS1_3_VERSION ? 2 : 1;
}

} // namespace

int note_client_hello(SSL* ssl) {
  const auto& idx = indexes();
  auto* hello = static_cast<HelloName*>(SSL_get_ex_data(ssl, idx.ssl));
  if (!hello) {
    hello = static_cast<HelloName*>(OPENSSL_zalloc(sizeof(HelloName)));
    if (!hello || SSL_set_ex_data(ssl, idx.ssl, hello) != 1) {
      OPENSSL_free(hello);
      return 0;
    }
  }
  // A second ClientHello (after HelloRetryRequest) replaces the first.
  *hello = HelloName{};
  hello->provider = provider_of(SSL_get_SSL_CTX(ssl));
  const unsigned char* data = nullptr;
  std::size_t size = 0;
  if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &data, &size) ==
      1) {
    parse_server_name(data, size, *hello);
  }
  return 1;
}

Result<void> use_ticket_provider(SSL_CTX* ctx,
                                 std::shared_ptr<Provider> provider,
                                 TicketOptions options) {
  STEK_ENSURE(ctx != nullptr && provider != nullptr, Errc::invalid_argument,
              "use_ticket_provider needs an SSL_CTX and a provider");
  const auto& idx = indexes();
  STEK_ENSURE(idx.ctx >= 0 && idx.ssl >= 0 && idx.aes != nullptr, Errc::crypto,
              "OpenSSL could not set up ticket callbacks (no ex_data index "
              "or no AES-256-CBC)");
  // Connections in their handshake point at the installed provider, so it
  // cannot be swapped under them; a provider follows its file instead.
  STEK_ENSURE(SSL_CTX_get_ex_data(ctx, idx.ctx) == nullptr, Errc::already_exists,
              "this SSL_CTX already has a ticket provider");
  auto* held = new std::shared_ptr<Provider>(std::move(provider));
  if (SSL_CTX_set_ex_data(ctx, idx.ctx, held) != 1) {
    delete held;
    return fail(Errc::crypto, "SSL_CTX_set_ex_data failed");
  }
  if (SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_callback) != 1) {
    return fail(Errc::crypto, "SSL_CTX_set_tlsext_ticket_key_evp_cb failed");
  }
  if (options.install_client_hello_callback) {
    SSL_CTX_set_client_hello_cb(ctx, client_hello_callback, nullptr);
  }
  return {};
}

} // namespace stek::openssl
