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
