# SPDX-License-Identifier: Apache-2.0
# Ticket formats, key matching, decryption and session decoding.
list(APPEND STEK_INSPECT_SOURCES
  src/inspect/ticket/classify.cpp
  src/inspect/ticket/cipher_suites.cpp
  src/inspect/ticket/der_reader.cpp
  src/inspect/ticket/openssl_session.cpp
  src/inspect/ticket/s2n_state.cpp
  src/inspect/ticket/go_state.cpp
  src/inspect/ticket/ticket_crypto.cpp
  src/inspect/ticket/secret_cache.cpp
  src/inspect/ticket/opener.cpp
  src/inspect/ticket/pem_session.cpp)
