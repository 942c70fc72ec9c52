# SPDX-License-Identifier: Apache-2.0
# The DerivedProvider with a fake clock and an in-process fake oracle (its
# schedule, outages, lookups, real OpenSSL handshakes), the file openers of
# stek::formats, and the C API over derived keystores (with the command
# oracle running `openssl mac`).
stek_test_binary(stek_derived_provider_tests
  ${CMAKE_CURRENT_LIST_DIR}/test_derived_provider.cpp
  ${CMAKE_CURRENT_LIST_DIR}/test_derived_c_api.cpp)
# The schedule's pure functions are internal (core/src/provider).
target_include_directories(stek_derived_provider_tests
  PRIVATE ${PROJECT_SOURCE_DIR}/core/src)
target_link_libraries(stek_derived_provider_tests
  PRIVATE stek::formats OpenSSL::SSL OpenSSL::Crypto)
