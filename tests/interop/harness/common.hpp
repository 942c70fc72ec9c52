// SPDX-License-Identifier: Apache-2.0
#pragma once

// What every piece of the interop harness shares: the names it takes from
// tests/integration/process.hpp, byte strings, the clock and the timeouts,
// small text and byte helpers, and owning pointers and error text for the
// OpenSSL API.

#include "integration/process.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stek::interop {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using stek::test::describe;
using stek::test::ProcessResult;
using stek::test::read_file;
using stek::test::stekctl;
using stek::test::write_file;

// Byte strings are std::string throughout: files, tickets, DER.
using Bytes = std::string;
using Clock = std::chrono::steady_clock;

// How long a server may take to start or reload, and a client to finish, on
// a loaded machine. Generous: they only matter when something hangs.
inline constexpr auto k_start_timeout = 30s;
inline constexpr auto k_client_timeout = 30s;
inline constexpr auto k_stop_timeout = 10s;

// Lower-case hex of `bytes`.
std::string to_hex(std::string_view bytes);

// The lines of `text`, without their "\n" (or "\r\n").
std::vector<std::string> lines_of(const std::string& text);

// `n` random bytes (RAND_bytes).
Bytes random_bytes(std::size_t n);

// Standard base64 (with padding) of `bytes`.
std::string base64_encode(std::string_view bytes);

// Decode standard base64 (with padding); nullopt if it is not that.
std::optional<Bytes> base64_decode(std::string_view text);

// OpenSSL's error queue as text (emptying it).
std::string openssl_errors();

// Throw std::runtime_error with `what` and OpenSSL's errors.
[[noreturn]] void fail_openssl(const std::string& what);

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
template <typename T, void (*Free)(T*)>
using Owned = std::unique_ptr<T, Deleter<T, Free>>;

using BioPtr = Owned<BIO, BIO_free_all>;
using PkeyPtr = Owned<EVP_PKEY, EVP_PKEY_free>;
using X509Ptr = Owned<X509, X509_free>;
using SessionPtr = Owned<SSL_SESSION, SSL_SESSION_free>;
using CipherCtxPtr = Owned<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;
using SslCtxPtr = Owned<SSL_CTX, SSL_CTX_free>;
using SslPtr = Owned<SSL, SSL_free>;

} // namespace stek::interop
