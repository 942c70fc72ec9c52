# SPDX-License-Identifier: Apache-2.0
# Key log parsing and TLS 1.3 server-record decryption: real in-memory
# OpenSSL connections whose server records, opened with the client's key
# log, must hold the tickets the client received; key schedule vectors
# from RFC 8448; and a key log written by `openssl s_client -keylogfile`.
stek_test_binary(stek_keylog_tests
  ${CMAKE_CURRENT_SOURCE_DIR}/keylog/test_keylog_parse.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/keylog/test_tls13_keys.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/keylog/test_tls13_decryptor.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/keylog/test_openssl_cli_keylog.cpp)
target_link_libraries(stek_keylog_tests
  PRIVATE stek_inspect OpenSSL::SSL OpenSSL::Crypto)
# The tests reach the internal key schedule (core/src/inspect/keylog).
target_include_directories(stek_keylog_tests PRIVATE ${PROJECT_SOURCE_DIR}/core/src)
find_program(STEK_OPENSSL_EXECUTABLE openssl)
set(stek_openssl "")
if(STEK_OPENSSL_EXECUTABLE)
  set(stek_openssl "${STEK_OPENSSL_EXECUTABLE}")
endif()
target_compile_definitions(stek_keylog_tests PRIVATE
  STEK_OPENSSL_EXECUTABLE="${stek_openssl}")
