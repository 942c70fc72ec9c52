# SPDX-License-Identifier: Apache-2.0
# stekctl inspect as a command (in-process): inputs told apart by content,
# tickets minted by real OpenSSL handshakes under keystore keys, output and
# --summary findings.
stek_test_binary(stek_inspect_report_tests
  ${CMAKE_CURRENT_SOURCE_DIR}/report/test_input.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/report/test_summary.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/report/test_cmd_inspect.cpp)
target_link_libraries(stek_inspect_report_tests
  PRIVATE stekctl_cli stek_inspect OpenSSL::SSL OpenSSL::Crypto)

# Standard input is a pipe here, which cannot be rewound after the first
# bytes told what it holds: a capture and a hex ticket both stream through.
add_test(NAME "inspect: a capture on a pipe"
  COMMAND sh -c "cat \"$1\" | \"$0\" --json inspect --summary -"
          $<TARGET_FILE:stekctl>
          ${PROJECT_SOURCE_DIR}/fuzz/corpus/capture_reader/openssl-tls12-tls13.pcap)
set_tests_properties("inspect: a capture on a pipe" PROPERTIES
  PASS_REGULAR_EXPRESSION "\"tickets\": 3,.*\"new_session_ticket\": 1,.*\"kind\": \"capture\"")
add_test(NAME "inspect: a hex ticket on a pipe"
  COMMAND sh -c "printf '%s\\n' 754f9f97da135371263a68664627e165bffb0ceebb90d331b6ab907e9185a3ac7991f9389e4213649f99dd528be31bb0754f9f97da135371263a68664627e165bffb0ceebb90d331b6ab907e9185a3ac | \"$0\" inspect -"
          $<TARGET_FILE:stekctl>)
set_tests_properties("inspect: a hex ticket on a pipe" PROPERTIES
  PASS_REGULAR_EXPRESSION "ticket 1: ticket in -.*80 bytes, format openssl.*key id:   754f9f97da135371263a68664627e165")
