/* SPDX-License-Identifier: Apache-2.0 */
/* The same in C, through stek.h. */
#include <stek/stek.h>

#include <openssl/ssl.h>

#include <stdio.h>

static void on_status(void *arg, const stek_status *status) {
  (void)arg;
  fprintf(stderr, "keystore generation %llu: %s\n",
          (unsigned long long)status->generation,
          status->ok ? "loaded" : status->message);
}

int main(int argc, char **argv) {
  stek_file_options options;
  stek_provider *provider = NULL;
  stek_error error;
  SSL_CTX *ctx;
  if (argc != 2) {
    fprintf(stderr, "usage: %s KEYSTORE\n", argv[0]);
    return 2;
  }
  stek_file_options_init(&options);
  options.on_status = on_status;
  if (stek_file_provider_open(argv[1], &options, &provider, &error) != STEK_OK) {
    fprintf(stderr, "error: %s (%s)\n", error.message, stek_code_name(error.code));
    return 1;
  }
  ctx = SSL_CTX_new(TLS_server_method());
  if (stek_openssl_use_provider(ctx, provider, 0, &error) != STEK_OK) {
    fprintf(stderr, "error: %s\n", error.message);
    return 1;
  }
  stek_provider_free(provider); /* ctx keeps its own reference */
  /* ... load the certificate, accept connections with SSL_new(ctx) ... */
  SSL_CTX_free(ctx);
  return 0;
}
