# SPDX-License-Identifier: Apache-2.0
# stekctl inspect on real captures: nginx 1.22 and `openssl s_client` on
# loopback (the interop harness, tests/interop), tcpdump/dumpcap capturing,
# and tshark 4.0 as the oracle for which tickets a capture holds.
# tcpdump and dumpcap need root (or capture capabilities), as the interop
# tests already assume. A missing program is not fatal here: the tests that
# need it fail and say which.
find_program(STEK_INSPECT_TCPDUMP tcpdump HINTS /usr/sbin /usr/bin)
find_program(STEK_INSPECT_DUMPCAP dumpcap HINTS /usr/bin /usr/sbin)
find_program(STEK_INSPECT_TSHARK tshark)
find_program(STEK_INSPECT_EDITCAP editcap)
foreach(program STEK_INSPECT_TCPDUMP STEK_INSPECT_DUMPCAP STEK_INSPECT_TSHARK STEK_INSPECT_EDITCAP)
  if(NOT ${program})
    message(WARNING "${program}: not found; the inspect interop tests that need it will fail")
    set(${program} "")
  endif()
endforeach()
# openssl: the interop tests found it (tests/interop/CMakeLists.txt).
if(NOT STEK_INTEROP_OPENSSL)
  find_program(STEK_INTEROP_OPENSSL openssl)
endif()

if(TARGET stek_interop_harness)
  stek_test_binary(stek_inspect_interop_tests
    ${CMAKE_CURRENT_SOURCE_DIR}/interop/support.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/interop/verify.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/interop/test_inspect_captures.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/interop/test_inspect_summary.cpp)
  target_link_libraries(stek_inspect_interop_tests
    PRIVATE stek_interop_harness stek::core nlohmann_json::nlohmann_json)
  add_dependencies(stek_inspect_interop_tests stekctl)
  target_compile_definitions(stek_inspect_interop_tests PRIVATE
    STEK_INSPECT_TCPDUMP="${STEK_INSPECT_TCPDUMP}"
    STEK_INSPECT_DUMPCAP="${STEK_INSPECT_DUMPCAP}"
    STEK_INSPECT_TSHARK="${STEK_INSPECT_TSHARK}"
    STEK_INSPECT_EDITCAP="${STEK_INSPECT_EDITCAP}"
    STEK_INSPECT_OPENSSL="${STEK_INTEROP_OPENSSL}")
endif()
