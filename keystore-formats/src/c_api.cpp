// SPDX-License-Identifier: Apache-2.0
// The C API of stek.h. It lives in stek::formats rather than stek::core
// because opening a provider parses the native keystore, and core knows no
// JSON library; everything else here forwards to core.
#include <stek/stek.h>

#include <stek/formats/derived_provider.hpp>
#include <stek/formats/file_provider.hpp>
#include <stek/openssl_tickets.hpp>

#include <algorithm>
#include <cstring>
#include <new>

// Either kind of provider: lookups and the OpenSSL adapter go through
// `provider`; status and reload need the concrete one, exactly one of
// `file` and `derived` (owned by `provider`).
struct stek_provider {
  std::shared_ptr<stek::Provider> provider;
  stek::FileProvider* file = nullptr;
  stek::DerivedProvider* derived = nullptr;
};

namespace {

static_assert(STEK_ERR_IO == static_cast<int>(stek::Errc::io) + 1);
static_assert(STEK_ERR_ORACLE == static_cast<int>(stek::Errc::oracle) + 1);

template <std::size_t N>
void copy_text(const std::string& text, char (&out)[N]) {
  const std::size_t n = std::min(text.size(), N - 1);
  std::memcpy(out, text.data(), n);
  out[n] = '\0';
}

int report(const stek::Error& error, stek_error* out) {
  const int code = static_cast<int>(error.code) + 1;
  if (out) {
    out->code = code;
    copy_text(error.message, out->message);
  }
  return code;
}

int report(int code, const char* message, stek_error* out) {
  if (out) {
    out->code = code;
    copy_text(message, out->message);
  }
  return code;
}

std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch())
    .count();
}

void to_c(const stek::ProviderStatus& status, stek_status& out) {
  out.generation = status.generation;
  out.loaded_at = unix_seconds(status.loaded_at);
  out.checked_at = unix_seconds(status.checked_at);
  out.keys = status.keys;
  out.ok = status.ok ? 1 : 0;
  copy_text(status.message, out.message);
}

void to_c(const stek::DerivedProviderStatus& status, stek_status& out) {
  out.generation = status.oracle_calls - status.oracle_failures;
  out.loaded_at = 0;
  out.checked_at = unix_seconds(status.checked_at);
  out.keys = status.epochs;
  out.ok = status.oracle_ok ? 1 : 0;
  copy_text(status.message, out.message);
}

void to_c(const stek::DerivedProviderStatus& status, stek_derived_status& out) {
  out.has_epochs = status.first_epoch ? 1 : 0;
  out.first_epoch = status.first_epoch.value_or(0);
  out.last_epoch = status.last_epoch.value_or(0);
  out.epochs = status.epochs;
  out.runs_out_at =
    status.runs_out_at ? status.runs_out_at->time_since_epoch().count() : 0;
  out.oracle_ok = status.oracle_ok ? 1 : 0;
  copy_text(status.message, out.message);
  out.oracle_calls = status.oracle_calls;
  out.oracle_failures = status.oracle_failures;
  out.checked_at = unix_seconds(status.checked_at);
}

// Check the C options of a file provider and turn them into C++ ones.
int file_options(const stek_file_options* options,
                 stek::FileProviderOptions& cpp,
                 stek_error* error) {
  stek_file_options c_options;
  stek_file_options_init(&c_options);
  if (options) {
    c_options = *options;
  }
  if (c_options.watch < STEK_WATCH_AUTO || c_options.watch > STEK_WATCH_MANUAL ||
      c_options.poll_interval_ms == 0) {
    return report(STEK_ERR_INVALID_ARGUMENT,
                  "invalid stek_file_options (watch or poll_interval_ms)",
                  error);
  }
  cpp.watch = static_cast<stek::WatchMode>(c_options.watch);
  cpp.poll_interval = std::chrono::milliseconds(c_options.poll_interval_ms);
  cpp.require_private = c_options.require_private != 0;
  cpp.derived_cache_entries = c_options.derived_cache_entries;
  if (c_options.on_status) {
    cpp.on_status = [callback = c_options.on_status,
                     arg = c_options.on_status_arg](
                      const stek::ProviderStatus& status) {
      stek_status c_status;
      to_c(status, c_status);
      callback(arg, &c_status);
    };
  }
  return STEK_OK;
}

// The same for a derived provider.
int derived_options(const stek_derived_options* options,
                    stek::DerivedProviderOptions& cpp,
                    stek_error* error) {
  stek_derived_options c_options;
  stek_derived_options_init(&c_options);
  if (options) {
    c_options = *options;
  }
  if (c_options.retry_first_ms == 0 ||
      c_options.retry_cap_ms < c_options.retry_first_ms) {
    return report(STEK_ERR_INVALID_ARGUMENT,
                  "invalid stek_derived_options (retry_first_ms must be "
                  "positive and at most retry_cap_ms)",
                  error);
  }
  cpp.require_private = c_options.require_private != 0;
  cpp.require_first_fetch = c_options.require_first_fetch != 0;
  cpp.derived_cache_entries = c_options.derived_cache_entries;
  cpp.retry_first = std::chrono::milliseconds(c_options.retry_first_ms);
  cpp.retry_cap = std::chrono::milliseconds(c_options.retry_cap_ms);
  if (c_options.on_status) {
    cpp.on_status = [callback = c_options.on_status,
                     arg = c_options.on_status_arg](
                      const stek::DerivedProviderStatus& status) {
      stek_derived_status c_status;
      to_c(status, c_status);
      callback(arg, &c_status);
    };
  }
  if (c_options.on_log) {
    cpp.on_log = [callback = c_options.on_log,
                  arg = c_options.on_log_arg](std::string_view line) {
      const std::string text(line); // terminated for C
      callback(arg, text.c_str());
    };
  }
  return STEK_OK;
}

// Wrap an opened provider of either kind for C.
int hand_out(stek::formats::AnyProvider opened,
             stek_provider** out,
             stek_error* error) {
  auto* provider = new (std::nothrow) stek_provider;
  if (!provider) {
    return report(STEK_ERR_IO, "out of memory", error);
  }
  if (auto* file = std::get_if<std::unique_ptr<stek::FileProvider>>(&opened)) {
    provider->file = file->get();
  } else {
    provider->derived =
      std::get<std::unique_ptr<stek::DerivedProvider>>(opened).get();
  }
  provider->provider = stek::formats::share_provider(std::move(opened));
  *out = provider;
  return STEK_OK;
}

std::optional<std::string_view> name_of(const char* sni, std::size_t size) {
  if (!sni) {
    return std::nullopt;
  }
  return std::string_view(sni, size);
}

int to_c(std::optional<stek::TicketKey> key, stek_ticket_key* out) {
  if (!key || !out) {
    return 0;
  }
  std::memcpy(out->id, key->id.bytes().data(), sizeof out->id);
  std::memcpy(out->aes, key->aes().reveal().data(), sizeof out->aes);
  std::memcpy(out->hmac, key->hmac().reveal().data(), sizeof out->hmac);
  std::memcpy(out->material, key->material().reveal().data(),
              sizeof out->material);
  out->has_material = key->has_material ? 1 : 0;
  out->renew = key->renew ? 1 : 0;
  return 1;
}

} // namespace

extern "C" {

const char* stek_code_name(int code) {
  if (code == STEK_OK) {
    return "ok";
  }
  if (code < STEK_ERR_IO || code > STEK_ERR_ORACLE) {
    return "unknown";
  }
  // errc_name returns a view of a string literal, so data() is terminated.
  return stek::errc_name(static_cast<stek::Errc>(code - 1)).data();
}

void stek_ticket_key_clear(stek_ticket_key* key) {
  if (key) {
    stek::cleanse({reinterpret_cast<std::uint8_t*>(key), sizeof *key});
  }
}

void stek_file_options_init(stek_file_options* options) {
  if (!options) {
    return;
  }
  *options = stek_file_options{};
  options->watch = STEK_WATCH_AUTO;
  options->poll_interval_ms = 1000;
  options->require_private = 1;
  options->derived_cache_entries = 1024;
}

int stek_file_provider_open(const char* path,
                            const stek_file_options* options,
                            stek_provider** out,
                            stek_error* error) {
  if (!path || !out) {
    return report(STEK_ERR_INVALID_ARGUMENT,
                  "stek_file_provider_open needs a path and an out pointer",
                  error);
  }
  *out = nullptr;
  stek::FileProviderOptions cpp;
  if (const int code = file_options(options, cpp, error); code != STEK_OK) {
    return code;
  }
  auto opened = stek::formats::open_file_provider(path, std::move(cpp));
  if (!opened) {
    return report(opened.error(), error);
  }
  return hand_out(std::move(*opened), out, error);
}

void stek_derived_options_init(stek_derived_options* options) {
  if (!options) {
    return;
  }
  *options = stek_derived_options{};
  options->require_private = 1;
  options->require_first_fetch = 0;
  options->derived_cache_entries = 1024;
  options->retry_first_ms = 1000;
  options->retry_cap_ms = 300000;
}

int stek_derived_provider_open(const char* path,
                               const stek_derived_options* options,
                               stek_provider** out,
                               stek_error* error) {
  if (!path || !out) {
    return report(STEK_ERR_INVALID_ARGUMENT,
                  "stek_derived_provider_open needs a path and an out pointer",
                  error);
  }
  *out = nullptr;
  stek::DerivedProviderOptions cpp;
  if (const int code = derived_options(options, cpp, error); code != STEK_OK) {
    return code;
  }
  auto opened = stek::formats::open_derived_provider(path, std::move(cpp));
  if (!opened) {
    return report(opened.error(), error);
  }
  return hand_out(std::move(*opened), out, error);
}

int stek_provider_open(const char* path,
                       const stek_file_options* file_options_in,
                       const stek_derived_options* derived_options_in,
                       stek_provider** out,
                       stek_error* error) {
  if (!path || !out) {
    return report(STEK_ERR_INVALID_ARGUMENT,
                  "stek_provider_open needs a path and an out pointer", error);
  }
  *out = nullptr;
  stek::formats::ProviderOptions cpp;
  if (const int code = file_options(file_options_in, cpp.file, error);
      code != STEK_OK) {
    return code;
  }
  if (const int code = derived_options(derived_options_in, cpp.derived, error);
      code != STEK_OK) {
    return code;
  }
  auto opened = stek::formats::open_provider(path, std::move(cpp));
  if (!opened) {
    return report(opened.error(), error);
  }
  return hand_out(std::move(*opened), out, error);
}

void stek_provider_free(stek_provider* provider) { delete provider; }

int stek_provider_encryption_key(stek_provider* provider,
                                 const char* sni,
                                 size_t sni_len,
                                 stek_ticket_key* out) {
  if (!provider) {
    return 0;
  }
  return to_c(provider->provider->encryption_key(name_of(sni, sni_len)), out);
}

int stek_provider_decryption_key(stek_provider* provider,
                                 const char* sni,
                                 size_t sni_len,
                                 const uint8_t id[16],
                                 stek_ticket_key* out) {
  if (!provider || !id) {
    return 0;
  }
  return to_c(provider->provider->decryption_key(
                name_of(sni, sni_len), stek::KeyIdView(id, stek::KeyId::k_size)),
              out);
}

int stek_provider_reload(stek_provider* provider, stek_error* error) {
  if (!provider) {
    return report(STEK_ERR_INVALID_ARGUMENT, "no provider", error);
  }
  if (!provider->file) {
    return report(STEK_ERR_UNSUPPORTED,
                  "a derived provider has no keys in its file to reload: it "
                  "fetches them from its oracle on its own schedule (restart "
                  "to read an edited derived keystore)",
                  error);
  }
  auto reloaded = provider->file->reload();
  return reloaded ? STEK_OK : report(reloaded.error(), error);
}

void stek_provider_status(const stek_provider* provider, stek_status* out) {
  if (!provider || !out) {
    return;
  }
  if (provider->file) {
    to_c(provider->file->status(), *out);
  } else {
    to_c(provider->derived->status(), *out);
  }
}

int stek_provider_derived_status(const stek_provider* provider,
                                 stek_derived_status* out) {
  if (!provider || !out) {
    return STEK_ERR_INVALID_ARGUMENT;
  }
  if (!provider->derived) {
    return STEK_ERR_UNSUPPORTED;
  }
  to_c(provider->derived->status(), *out);
  return STEK_OK;
}

int stek_openssl_use_provider(struct ssl_ctx_st* ctx,
                              stek_provider* provider,
                              int own_client_hello_callback,
                              stek_error* error) {
  if (!ctx || !provider) {
    return report(STEK_ERR_INVALID_ARGUMENT,
                  "stek_openssl_use_provider needs an SSL_CTX and a provider",
                  error);
  }
  stek::openssl::TicketOptions options;
  options.install_client_hello_callback = own_client_hello_callback == 0;
  auto used = stek::openssl::use_ticket_provider(ctx, provider->provider, options);
  return used ? STEK_OK : report(used.error(), error);
}

int stek_openssl_note_client_hello(struct ssl_st* ssl) {
  return stek::openssl::note_client_hello(ssl);
}

} // extern "C"
