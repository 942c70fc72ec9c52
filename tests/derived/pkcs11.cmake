# SPDX-License-Identifier: Apache-2.0
# The PKCS#11 oracle against a real module, SoftHSM2: tokens and keys are
# made per test by stek-test-hsm (raw PKCS#11, no libstek), and the MACs are
# checked against `openssl mac` with the same key.
find_package(PkgConfig REQUIRED)
pkg_check_modules(P11KIT REQUIRED p11-kit-1)

add_executable(stek-test-hsm ${CMAKE_CURRENT_LIST_DIR}/hsm_tool.cpp)
target_include_directories(stek-test-hsm PRIVATE ${P11KIT_INCLUDE_DIRS})
target_link_libraries(stek-test-hsm PRIVATE ${CMAKE_DL_LIBS} stek_settings stek_warnings)

find_file(STEK_SOFTHSM2_MODULE libsofthsm2.so
  PATHS /usr/lib/softhsm /usr/lib/x86_64-linux-gnu/softhsm /usr/local/lib/softhsm
  NO_DEFAULT_PATH)
if(NOT STEK_SOFTHSM2_MODULE)
  # CI installs softhsm2 (.ci/install); there a missing module is a broken
  # environment, not a reason to skip.
  if("$ENV{CI}" STREQUAL "true")
    message(FATAL_ERROR "SoftHSM2 (libsofthsm2.so) not found; the PKCS#11 "
                        "oracle tests need it: apt-get install softhsm2")
  endif()
  message(WARNING "SoftHSM2 (libsofthsm2.so) not found; the PKCS#11 oracle "
                  "tests are not registered (apt-get install softhsm2)")
  return()
endif()

stek_test_binary(stek_pkcs11_oracle_tests
  ${CMAKE_CURRENT_LIST_DIR}/test_pkcs11_oracle.cpp)
target_link_libraries(stek_pkcs11_oracle_tests
  PRIVATE stek::core nlohmann_json::nlohmann_json)
target_compile_definitions(stek_pkcs11_oracle_tests PRIVATE
  STEK_TEST_HSM_BINARY="$<TARGET_FILE:stek-test-hsm>"
  STEK_SOFTHSM2_MODULE="${STEK_SOFTHSM2_MODULE}")
add_dependencies(stek_pkcs11_oracle_tests stek-test-hsm)
