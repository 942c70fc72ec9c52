# SPDX-License-Identifier: Apache-2.0
# The command MAC oracle: real /bin/sh commands (openssl mac, base64, sleep)
# checked against HMAC-SHA256 computed in-process.
stek_test_binary(stek_command_oracle_tests
  ${CMAKE_CURRENT_LIST_DIR}/test_command_oracle.cpp)
target_link_libraries(stek_command_oracle_tests PRIVATE stek::core OpenSSL::Crypto)
