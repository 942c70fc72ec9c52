# SPDX-License-Identifier: Apache-2.0
# The NSS key log (SSLKEYLOGFILE) and TLS 1.3 server-record decryption.
list(APPEND STEK_INSPECT_SOURCES
  src/inspect/keylog/keylog.cpp
  src/inspect/keylog/tls13_keys.cpp
  src/inspect/keylog/tls13_decryptor.cpp)
