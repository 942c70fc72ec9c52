// SPDX-License-Identifier: Apache-2.0
// The C API over derived keystores, with the command oracle running
// `openssl mac` under the fake oracle's key, so the keys can be checked
// against the ones computed in-process.
#include "derived/fake_oracle.hpp"
#include "provider/provider_fixture.hpp"
#include "provider/tls_pair.hpp"

#include <stek/stek.h>

#include <sys/stat.h>

#include <cstring>
#include <mutex>

using namespace stek;
using namespace stek::test;
using namespace std::chrono_literals;

namespace {

std::string hex_of(std::span<const std::uint8_t> bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (const auto b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

// A derived keystore file (12-hour epochs, so the real clock does not cross
// one during a test) whose oracle runs `command`.
Keystore save_derived(const std::filesystem::path& path, std::string command,
                      CommandOracleConfig::Output output =
                        CommandOracleConfig::Output::binary) {
  Keystore ks = derived_keystore(12h, 1h);
  CommandOracleConfig oracle;
  oracle.command = std::move(command);
  oracle.output = output;
  oracle.timeout = 10s;
  ks.derivation->oracle = oracle;
  save(path, ks);
  return ks;
}

std::string openssl_mac() {
  return "openssl mac -digest SHA256 -macopt hexkey:" + hex_of(k_fake_oracle_key) +
         " -binary HMAC";
}

Epoch current_epoch(const Keystore& ks) {
  return epoch_at(ks.policy, std::chrono::floor<std::chrono::seconds>(
                               std::chrono::system_clock::now()));
}

struct Logged {
  std::mutex mutex;
  std::vector<std::string> lines;
  int statuses = 0;

  static void log(void* arg, const char* line) {
    auto* self = static_cast<Logged*>(arg);
    std::lock_guard lock(self->mutex);
    self->lines.emplace_back(line);
  }
  static void status(void* arg, const stek_derived_status* status) {
    auto* self = static_cast<Logged*>(arg);
    std::lock_guard lock(self->mutex);
    ++self->statuses;
    CHECK(status != nullptr);
  }
  std::size_t count(std::string_view part) {
    std::lock_guard lock(mutex);
    return static_cast<std::size_t>(
      std::count_if(lines.begin(), lines.end(), [&](const std::string& l) {
        return l.find(part) != std::string::npos;
      }));
  }
};

} // namespace

TEST_CASE("C API: a derived provider opens, looks up, reports and serves OpenSSL") {
  const auto ks = save_derived("derived.json", openssl_mac());
  const Epoch now = current_epoch(ks);

  stek_derived_options options;
  stek_derived_options_init(&options);
  CHECK(options.require_private == 1);
  CHECK(options.require_first_fetch == 0);
  CHECK(options.retry_first_ms == 1000);
  CHECK(options.retry_cap_ms == 300000);
  options.require_first_fetch = 1;
  Logged logged;
  options.on_status = &Logged::status;
  options.on_status_arg = &logged;
  options.on_log = &Logged::log;
  options.on_log_arg = &logged;

  stek_error error{};
  stek_provider* provider = nullptr;
  REQUIRE_MESSAGE(stek_derived_provider_open("derived.json", &options, &provider,
                                             &error) == STEK_OK,
                  error.message);

  stek_ticket_key key{};
  REQUIRE(stek_provider_encryption_key(provider, "a.example", 9, &key) == 1);
  const Key expected = expected_epoch_key(ks, now);
  CHECK(std::memcmp(key.id, expected.id.bytes().data(), 16) == 0);
  const auto openssl = expected_keys(expected, Binding::server_name("a.example"));
  CHECK(std::memcmp(key.aes, openssl.aes.reveal().data(), 32) == 0);
  CHECK(std::memcmp(key.hmac, openssl.hmac.reveal().data(), 32) == 0);
  CHECK(key.has_material == 1);
  stek_ticket_key_clear(&key);

  // The older epochs follow from the provider's thread.
  stek_derived_status derived{};
  CHECK(eventually([&] {
    REQUIRE(stek_provider_derived_status(provider, &derived) == STEK_OK);
    return derived.has_epochs == 1 && derived.first_epoch < now;
  }));
  CHECK(derived.last_epoch >= now);
  CHECK(derived.epochs >= 2);
  CHECK(derived.oracle_ok == 1);
  CHECK(derived.message[0] == '\0');
  CHECK(derived.oracle_calls >= 2);
  CHECK(derived.oracle_failures == 0);
  CHECK(derived.runs_out_at > 0);
  CHECK(derived.checked_at > 0);
  stek_ticket_key old{};
  const auto older = epoch_key_id(ks.policy, *ks.derivation, now - 1);
  REQUIRE(stek_provider_decryption_key(provider, "a.example", 9,
                                       older.bytes().data(), &old) == 1);
  CHECK(old.renew == 1);

  stek_status status{};
  stek_provider_status(provider, &status);
  CHECK(status.ok == 1);
  CHECK(status.keys >= 2);
  CHECK(status.generation >= 2);
  CHECK(status.loaded_at == 0);

  CHECK(stek_provider_reload(provider, &error) == STEK_ERR_UNSUPPORTED);
  CHECK(std::strstr(error.message, "derived provider") != nullptr);
  CHECK(logged.count("") == 0);
  {
    std::lock_guard lock(logged.mutex);
    CHECK(logged.statuses >= 2);
  }

  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    CAPTURE(version);
    auto ctx = server_context(version);
    REQUIRE(stek_openssl_use_provider(ctx.get(), provider, 0, &error) == STEK_OK);
    auto client = client_context(version);
    auto first = handshake(ctx.get(), client.get(), "a.example");
    CHECK(ticket_key_name(first.session.get()) == expected.id.hex());
    CHECK(handshake(ctx.get(), client.get(), "a.example", first.session.get()).reused);
  }
  stek_provider_free(provider);
}

TEST_CASE("C API: stek_provider_open picks the provider the file calls for") {
  const auto ks = save_derived("derived.json", openssl_mac());
  save("plain.json", keystore_at(std::chrono::floor<std::chrono::seconds>(
                                   std::chrono::system_clock::now()) -
                                 1min));
  stek_file_options file;
  stek_file_options_init(&file);
  file.watch = STEK_WATCH_MANUAL;

  stek_error error{};
  stek_provider* derived = nullptr;
  REQUIRE_MESSAGE(stek_provider_open("derived.json", &file, nullptr, &derived,
                                     &error) == STEK_OK,
                  error.message);
  stek_derived_status status{};
  CHECK(stek_provider_derived_status(derived, &status) == STEK_OK);
  stek_ticket_key key{};
  REQUIRE(stek_provider_encryption_key(derived, nullptr, 0, &key) == 1);
  CHECK(std::memcmp(key.id, epoch_key_id(ks.policy, *ks.derivation, current_epoch(ks))
                              .bytes().data(), 16) == 0);
  stek_provider_free(derived);

  stek_provider* plain = nullptr;
  REQUIRE(stek_provider_open("plain.json", &file, nullptr, &plain, &error) == STEK_OK);
  CHECK(stek_provider_derived_status(plain, &status) == STEK_ERR_UNSUPPORTED);
  CHECK(stek_provider_encryption_key(plain, nullptr, 0, &key) == 1);
  CHECK(stek_provider_reload(plain, &error) == STEK_OK);
  stek_provider_free(plain);

  CHECK(stek_provider_open("missing.json", nullptr, nullptr, &plain, &error) ==
        STEK_ERR_NOT_FOUND);
  CHECK(plain == nullptr);
  CHECK(stek_provider_open(nullptr, nullptr, nullptr, &plain, &error) ==
        STEK_ERR_INVALID_ARGUMENT);
}

TEST_CASE("C API: a failing oracle fails open only when asked to") {
  save_derived("failing.json", "echo 'AccessDenied: no' >&2; exit 3",
               CommandOracleConfig::Output::base64);
  stek_derived_options options;
  stek_derived_options_init(&options);
  options.require_first_fetch = 1;
  stek_error error{};
  stek_provider* provider = nullptr;
  CHECK(stek_derived_provider_open("failing.json", &options, &provider, &error) ==
        STEK_ERR_ORACLE);
  CHECK(std::string(stek_code_name(error.code)) == "oracle");
  CHECK(std::strstr(error.message, "exited with status 3") != nullptr);
  CHECK(std::strstr(error.message, "failing.json") != nullptr);
  CHECK(provider == nullptr);

  Logged logged;
  options.require_first_fetch = 0;
  options.on_log = &Logged::log;
  options.on_log_arg = &logged;
  REQUIRE(stek_derived_provider_open("failing.json", &options, &provider, &error) ==
          STEK_OK);
  stek_derived_status status{};
  REQUIRE(stek_provider_derived_status(provider, &status) == STEK_OK);
  CHECK(status.oracle_ok == 0);
  CHECK(status.has_epochs == 0);
  CHECK(status.epochs == 0);
  CHECK(status.runs_out_at == 0);
  CHECK(status.oracle_failures >= 1);
  CHECK(std::strstr(status.message, "command oracle (") == status.message);
  stek_ticket_key key{};
  CHECK(stek_provider_encryption_key(provider, nullptr, 0, &key) == 0);
  CHECK(logged.count("oracle failing") == 1);
  CHECK(eventually([&] { return logged.count("no key encrypts") == 1; }));
  stek_status plain{};
  stek_provider_status(provider, &plain);
  CHECK(plain.ok == 0);
  CHECK(plain.keys == 0);
  stek_provider_free(provider);
}

TEST_CASE("C API: insecure files, plain keystores and bad options are refused") {
  save_derived("derived.json", openssl_mac());
  save("plain.json", keystore_at(std::chrono::floor<std::chrono::seconds>(
                                   std::chrono::system_clock::now())));
  stek_error error{};
  stek_provider* provider = nullptr;

  REQUIRE(::chmod("derived.json", 0640) == 0);
  CHECK(stek_derived_provider_open("derived.json", nullptr, &provider, &error) ==
        STEK_ERR_PERMISSION);
  CHECK(std::strstr(error.message, "derived.json") != nullptr);
  CHECK(stek_provider_open("derived.json", nullptr, nullptr, &provider, &error) ==
        STEK_ERR_PERMISSION);
  stek_derived_options lax;
  stek_derived_options_init(&lax);
  lax.require_private = 0;
  REQUIRE(stek_derived_provider_open("derived.json", &lax, &provider, &error) ==
          STEK_OK);
  stek_provider_free(provider);
  provider = nullptr;

  CHECK(stek_derived_provider_open("plain.json", nullptr, &provider, &error) ==
        STEK_ERR_INVALID_ARGUMENT);
  CHECK(std::strstr(error.message, "not a derived keystore") != nullptr);

  stek_derived_options bad;
  stek_derived_options_init(&bad);
  bad.retry_first_ms = 0;
  CHECK(stek_derived_provider_open("derived.json", &bad, &provider, &error) ==
        STEK_ERR_INVALID_ARGUMENT);
  CHECK(stek_derived_provider_open("derived.json", nullptr, nullptr, &error) ==
        STEK_ERR_INVALID_ARGUMENT);
  CHECK(provider == nullptr);

  stek_derived_status status{};
  CHECK(stek_provider_derived_status(nullptr, &status) == STEK_ERR_INVALID_ARGUMENT);
}
