// SPDX-License-Identifier: Apache-2.0
// Print whether a fresh secret is left out of core dumps ("excluded") or
// not ("included"), and exit 0 if that is what argv[1] expects, so that
// ctest can check STEK_SECRETS_IN_CORE_DUMPS in a process of its own: the
// variable is read once, at the first secret.
#include <stek/secret.hpp>

#include "vm_flags.hpp"

#include <cstdio>
#include <string_view>

int main(int argc, char** argv) {
  stek::SecretBytes secret(32);
  const bool excluded = stek::test::excluded_from_core_dumps(secret.reveal().data());
  const char* seen = excluded ? "excluded" : "included";
  std::puts(seen);
  const bool consistent = excluded == !stek::secrets_in_core_dumps();
  return consistent && argc == 2 && std::string_view(argv[1]) == seen ? 0 : 1;
}
