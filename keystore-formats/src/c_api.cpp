// SPDX-License-Identifier: Apache-2.0
// The C API of stek.h. It lives in stek::formats rather than stek::core
// because opening a provider parses the native keystore, and core knows no
// JSON library; everything else here forwards to core.
#include <stek/stek.h>

#include <stek/formats/file_provider.hpp>
#include <stek/openssl_tickets.hpp>

#include <algorithm>
#include <cstring>
#include <new>

struct stek_provider {
  std::shared_ptr<stek::FileProvider> file;
};

namespace {

static_assert(STEK_ERR_IO == static_cast<int>(stek::Errc::io) + 1);
static_assert(STEK_ERR_HOOK_FAILED ==
              static_cast<int>(stek::Errc::hook_failed) + 1);

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
  if (code < STEK_ERR_IO || code > STEK_ERR_HOOK_FAILED) {
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
  stek::FileProviderOptions cpp;
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
  auto opened = stek::formats::open_file_provider(path, std::move(cpp));
  if (!opened) {
    return report(opened.error(), error);
  }
  auto* provider = new (std::nothrow) stek_provider;
  if (!provider) {
    return report(STEK_ERR_IO, "out of memory", error);
  }
  provider->file = std::move(*opened);
  *out = provider;
  return STEK_OK;
}

void stek_provider_free(stek_provider* provider) { delete provider; }

int stek_provider_encryption_key(stek_provider* provider,
                                 const char* sni,
                                 size_t sni_len,
                                 stek_ticket_key* out) {
  if (!provider) {
    return 0;
  }
  return to_c(provider->file->encryption_key(name_of(sni, sni_len)), out);
}

int stek_provider_decryption_key(stek_provider* provider,
                                 const char* sni,
                                 size_t sni_len,
                                 const uint8_t id[16],
                                 stek_ticket_key* out) {
  if (!provider || !id) {
    return 0;
  }
  return to_c(provider->file->decryption_key(
                name_of(sni, sni_len), stek::KeyIdView(id, stek::KeyId::k_size)),
              out);
}

int stek_provider_reload(stek_provider* provider, stek_error* error) {
  if (!provider) {
    return report(STEK_ERR_INVALID_ARGUMENT, "no provider", error);
  }
  auto reloaded = provider->file->reload();
  return reloaded ? STEK_OK : report(reloaded.error(), error);
}

void stek_provider_status(const stek_provider* provider, stek_status* out) {
  if (provider && out) {
    to_c(provider->file->status(), *out);
  }
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
  auto used = stek::openssl::use_ticket_provider(ctx, provider->file, options);
  return used ? STEK_OK : report(used.error(), error);
}

int stek_openssl_note_client_hello(struct ssl_st* ssl) {
  return stek::openssl::note_client_hello(ssl);
}

} // extern "C"
