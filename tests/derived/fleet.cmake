# SPDX-License-Identifier: Apache-2.0
# The fleet test: three real stek-server processes that share nothing but a
# derived keystore file and an oracle (a SoftHSM2 token with a generated,
# never-extractable key, or a command), checked with `openssl s_client`
# resumption across servers and epochs, through an oracle outage, and by
# counting oracle calls per process. It drives real servers through the
# interop harness (tests/interop/harness.hpp, the stek_interop_harness
# library, defined later in tests/interop: targets resolve at generate
# time). Needs stek-server (examples, with the CLI) and SoftHSM2, which
# pkcs11.cmake looks for; without either the test is not registered.
if(NOT TARGET stek-server OR NOT TARGET stek-test-hsm OR NOT STEK_SOFTHSM2_MODULE)
  message(WARNING "the derived fleet test needs stek-server and SoftHSM2; "
                  "it is not registered")
  return()
endif()

find_program(STEK_FLEET_OPENSSL openssl)
if(NOT STEK_FLEET_OPENSSL)
  message(WARNING "openssl: not found; the derived fleet test is not registered")
  return()
endif()

stek_test_binary(stek_fleet_tests ${CMAKE_CURRENT_LIST_DIR}/test_fleet.cpp)
target_link_libraries(stek_fleet_tests PRIVATE
  stek_interop_harness stek::core nlohmann_json::nlohmann_json)
target_compile_definitions(stek_fleet_tests PRIVATE
  STEK_SERVER_BINARY="$<TARGET_FILE:stek-server>"
  STEK_TEST_HSM_BINARY="$<TARGET_FILE:stek-test-hsm>"
  STEK_SOFTHSM2_MODULE="${STEK_SOFTHSM2_MODULE}"
  STEK_FLEET_OPENSSL="${STEK_FLEET_OPENSSL}")
add_dependencies(stek_fleet_tests stekctl stek-server stek-test-hsm)

# stek_test_binary gives every discovered TEST_CASE a 600 s timeout; each
# fleet case takes well under a minute (about 90 s for all), so a stuck one
# is cut sooner. The discovery script (a TEST_INCLUDE_FILES entry added by
# stek_test_binary, before this one) sets stek_fleet_tests_TESTS to the
# names it registered. No labels: the other process tests use none.
set(stek_fleet_properties ${CMAKE_CURRENT_BINARY_DIR}/stek_fleet_tests_properties.cmake)
file(WRITE ${stek_fleet_properties} [=[
foreach(test IN LISTS stek_fleet_tests_TESTS)
  set_tests_properties("${test}" PROPERTIES TIMEOUT 180)
endforeach()
]=])
set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${stek_fleet_properties})
