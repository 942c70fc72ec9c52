/* SPDX-License-Identifier: Apache-2.0 */
/* A C program outside the project, built against an installed libstek
 * through <stek/stek.h> alone: opening the keystore PATH, which does not
 * exist, must fail with STEK_ERR_NOT_FOUND and a message.
 * ../check_install.sh compares its output.
 *
 * usage: stek_consumer_c PATH */
#include <stek/stek.h>

#include <stdio.h>

int main(int argc, char **argv) {
  stek_provider *provider = NULL;
  stek_error error = {0, {0}};
  int code;
  if (argc != 2) {
    fprintf(stderr, "usage: stek_consumer_c PATH\n");
    return 2;
  }
  code = stek_file_provider_open(argv[1], NULL, &provider, &error);
  if (code != STEK_ERR_NOT_FOUND || provider != NULL ||
      error.message[0] == '\0') {
    fprintf(stderr, "consumer_c: opening a missing keystore gave %d (%s)\n",
            code, stek_code_name(code));
    stek_provider_free(provider);
    return 1;
  }
  printf("C API: a missing keystore is %s\n", stek_code_name(code));
  return 0;
}
