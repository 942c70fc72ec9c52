# SPDX-License-Identifier: Apache-2.0
# The derivation of a derived keystore: epochs, ids, the MAC input, and
# which epochs a server holds.
stek_test_binary(stek_derivation_tests
  ${CMAKE_CURRENT_LIST_DIR}/test_derivation.cpp)
target_link_libraries(stek_derivation_tests PRIVATE stek::core OpenSSL::Crypto)
