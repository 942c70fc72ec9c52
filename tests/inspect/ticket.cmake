# SPDX-License-Identifier: Apache-2.0
# Ticket formats, key matching, decryption and session decoding: tickets
# minted by real OpenSSL handshakes and by Go 1.19's crypto/tls (go run), and
# s2n-tls tickets built to its documented envelope.
stek_test_binary(stek_ticket_tests
  ${CMAKE_CURRENT_SOURCE_DIR}/ticket/test_classify.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/ticket/test_session_decode.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/ticket/test_openssl_tickets.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/ticket/test_s2n_tickets.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/ticket/test_go_tickets.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/ticket/test_pem_session.cpp)
target_link_libraries(stek_ticket_tests
  PRIVATE stek_inspect OpenSSL::SSL OpenSSL::Crypto)
find_program(STEK_GO_EXECUTABLE go)
set(stek_go "")
if(STEK_GO_EXECUTABLE)
  set(stek_go "${STEK_GO_EXECUTABLE}")
endif()
target_compile_definitions(stek_ticket_tests PRIVATE
  STEK_TICKET_TEST_DIR="${CMAKE_CURRENT_SOURCE_DIR}/ticket"
  STEK_GO_EXECUTABLE="${stek_go}")
