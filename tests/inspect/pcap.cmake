# SPDX-License-Identifier: Apache-2.0
# The capture reader on captures built byte by byte: every link type, IPv4
# and IPv6, TCP reassembly, TLS record and handshake framing, limits and
# damage. Real captures of real servers are in interop/.
stek_test_binary(stek_capture_tests
  ${CMAKE_CURRENT_SOURCE_DIR}/pcap/test_capture_reader.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/pcap/test_tls_handshake.cpp)
target_link_libraries(stek_capture_tests PRIVATE stek_inspect)
target_include_directories(stek_capture_tests PRIVATE ${PROJECT_SOURCE_DIR}/core/src)
