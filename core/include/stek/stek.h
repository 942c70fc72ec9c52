/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libstek's C API: a session ticket key provider that serves the keys of a
 * stekctl keystore file and follows its changes, or computes them through
 * the MAC oracle a derived keystore names, and the OpenSSL adapter that
 * hands those keys to an SSL_CTX. See libstek(3).
 *
 * Link with `pkg-config --libs stek` (libstek_formats reads the keystore
 * file, libstek does the rest). Every function is safe to call from any
 * thread; lookups take no lock and allocate nothing once a name's secrets
 * are derived.
 */
#ifndef STEK_STEK_H
#define STEK_STEK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ssl_ctx_st; /* SSL_CTX */
struct ssl_st;     /* SSL */

/* Error codes: 0 is success; the others match stek::Errc in order. */
enum stek_code {
  STEK_OK = 0,
  STEK_ERR_IO = 1,
  STEK_ERR_PARSE,
  STEK_ERR_INVALID_KEYSTORE,
  STEK_ERR_INVALID_ARGUMENT,
  STEK_ERR_CRYPTO,
  STEK_ERR_NOT_FOUND,
  STEK_ERR_AMBIGUOUS,
  STEK_ERR_ALREADY_EXISTS,
  STEK_ERR_PERMISSION,
  STEK_ERR_LOCKED,
  STEK_ERR_UNSUPPORTED,
  STEK_ERR_STALE,
  STEK_ERR_HOOK_FAILED,
  STEK_ERR_ORACLE
};

/* What went wrong: a code and a message naming the file, key or field.
 * Messages never contain secrets. */
typedef struct stek_error {
  int code;
  char message[512];
} stek_error;

/* The stable name of a code, e.g. "invalid_keystore". */
const char *stek_code_name(int code);

/* One ticket key, its secrets derived for the server name asked for.
 * Wipe it with stek_ticket_key_clear() when done. */
typedef struct stek_ticket_key {
  uint8_t id[16];       /* the key name tickets carry in clear */
  uint8_t aes[32];      /* AES-256-CBC key (OpenSSL ticket format) */
  uint8_t hmac[32];     /* HMAC-SHA256 key (OpenSSL ticket format) */
  uint8_t material[32]; /* bound material, for servers that derive their own */
  int has_material;     /* 0 for keys imported from OpenSSL-family servers */
  int renew;            /* decrypting: issue a fresh ticket */
} stek_ticket_key;

void stek_ticket_key_clear(stek_ticket_key *key);

/* What a provider serves and how its last load went. */
typedef struct stek_status {
  uint64_t generation;  /* successful loads so far; 1 after open */
  int64_t loaded_at;    /* Unix time of the load being served */
  int64_t checked_at;   /* Unix time of the last load attempt */
  size_t keys;          /* keys in the keystore being served */
  int ok;               /* 0: the last attempt failed; old keys still served */
  char message[512];    /* why it failed, or notes; empty if none */
} stek_status;

enum stek_watch {
  STEK_WATCH_AUTO = 0, /* inotify, polling where it is unavailable */
  STEK_WATCH_POLL = 1, /* poll only */
  STEK_WATCH_MANUAL = 2 /* only stek_provider_reload() */
};

typedef struct stek_file_options {
  int watch;                    /* enum stek_watch */
  unsigned poll_interval_ms;    /* default 1000 */
  int require_private;          /* refuse group/other-readable files; default 1 */
  size_t derived_cache_entries; /* default 1024 */
  /* Called from the watching thread after every load attempt. */
  void (*on_status)(void *arg, const stek_status *status);
  void *on_status_arg;
} stek_file_options;

/* Fill `options` with the defaults. */
void stek_file_options_init(stek_file_options *options);

typedef struct stek_provider stek_provider;

/* Open a provider on the keystore at `path` and start watching it.
 * `options` may be NULL for the defaults. Returns STEK_OK and sets *out, or
 * an error code and fills `error` (which may be NULL). */
int stek_file_provider_open(const char *path,
                            const stek_file_options *options,
                            stek_provider **out,
                            stek_error *error);

/* What a derived provider holds and how its oracle is doing
 * (stekctl-keystore(5), DERIVED KEYSTORES). */
typedef struct stek_derived_status {
  int has_epochs;           /* 0 before the first successful oracle call */
  int64_t first_epoch;      /* oldest and newest epoch held, if has_epochs */
  int64_t last_epoch;
  size_t epochs;            /* keys held; fewer than last - first + 1 while
                               the oracle fails for an epoch between them */
  int64_t runs_out_at;      /* Unix time the newest key stops encrypting;
                               0 if none is held */
  int oracle_ok;            /* 0 while the oracle fails; keys held still serve */
  char message[512];        /* the last failure, naming the oracle; or empty */
  uint64_t oracle_calls;    /* oracle calls since open, good or bad */
  uint64_t oracle_failures; /* how many of them failed */
  int64_t checked_at;       /* Unix time the last oracle call returned */
} stek_derived_status;

typedef struct stek_derived_options {
  int require_private;          /* refuse group/other-readable files; default 1 */
  int require_first_fetch;      /* fail open if the current epoch cannot be
                                   fetched, rather than start serving nothing
                                   and retry; default 0 */
  size_t derived_cache_entries; /* default 1024 */
  unsigned retry_first_ms;      /* first retry delay; default 1000 */
  unsigned retry_cap_ms;        /* longest retry delay; default 300000 */
  /* Called after every oracle call, from the thread that called open for
   * the first one and from the provider's thread after that. */
  void (*on_status)(void *arg, const stek_derived_status *status);
  void *on_status_arg;
  /* Called from the same threads with one line, no secret: an outage
   * starts or ends, the provider is about to run out of keys, or has. */
  void (*on_log)(void *arg, const char *line);
  void *on_log_arg;
} stek_derived_options;

/* Fill `options` with the defaults. */
void stek_derived_options_init(stek_derived_options *options);

/* Open a provider on the derived keystore at `path`: the current epoch's
 * key is fetched through the oracle the file names before it returns (see
 * require_first_fetch), the others by the provider's own thread. Keys stay
 * in memory. A keystore with keys is refused (STEK_ERR_INVALID_ARGUMENT):
 * open it with stek_file_provider_open, or use stek_provider_open. */
int stek_derived_provider_open(const char *path,
                               const stek_derived_options *options,
                               stek_provider **out,
                               stek_error *error);

/* Open whichever provider the keystore at `path` calls for: a derived one
 * for a derived keystore (with `derived_options`), a file one otherwise
 * (with `file_options`). Either options pointer may be NULL for the
 * defaults. */
int stek_provider_open(const char *path,
                       const stek_file_options *file_options,
                       const stek_derived_options *derived_options,
                       stek_provider **out,
                       stek_error *error);

/* Stop watching and free. The provider must not be in use; an SSL_CTX it
 * was installed on keeps its own reference, so freeing it there is fine. */
void stek_provider_free(stek_provider *provider);

/* The key that encrypts now for server name `sni` (`sni_len` bytes; NULL
 * for a connection without SNI). Returns 1 and fills `out`, or 0 if none. */
int stek_provider_encryption_key(stek_provider *provider,
                                 const char *sni,
                                 size_t sni_len,
                                 stek_ticket_key *out);

/* The key named `id` if it may decrypt for `sni` now. Returns 1 and fills
 * `out` (renew set if it no longer encrypts), or 0. */
int stek_provider_decryption_key(stek_provider *provider,
                                 const char *sni,
                                 size_t sni_len,
                                 const uint8_t id[16],
                                 stek_ticket_key *out);

/* Load the file now. On failure the old keys stay in use. A derived
 * provider has no keys in its file and fetches them on its own schedule:
 * STEK_ERR_UNSUPPORTED (restart to read an edited derived keystore). */
int stek_provider_reload(stek_provider *provider, stek_error *error);

/* For a derived provider: generation counts successful oracle calls, keys
 * the epochs held, ok and message are the oracle's, checked_at is the last
 * oracle call and loaded_at is 0; stek_provider_derived_status says more. */
void stek_provider_status(const stek_provider *provider, stek_status *out);

/* Fill `out` for a derived provider and return STEK_OK; a file provider
 * returns STEK_ERR_UNSUPPORTED and leaves `out` alone. */
int stek_provider_derived_status(const stek_provider *provider,
                                 stek_derived_status *out);

/* Make `ctx` use `provider` for its session tickets, as
 * stek::openssl::use_ticket_provider does (a ClientHello callback is
 * installed unless `own_client_hello_callback` is set; then call
 * stek_openssl_note_client_hello() from yours). */
int stek_openssl_use_provider(struct ssl_ctx_st *ctx,
                              stek_provider *provider,
                              int own_client_hello_callback,
                              stek_error *error);

/* Note the ClientHello's server name; for servers with their own
 * ClientHello callback. Returns 1. */
int stek_openssl_note_client_hello(struct ssl_st *ssl);

#ifdef __cplusplus
}
#endif

#endif /* STEK_STEK_H */
