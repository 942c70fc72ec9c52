list(APPEND STEK_INSPECT_SOURCES
  src/inspect/pcap/tls_handshake.cpp
  src/inspect/pcap/packet.cpp
  src/inspect/pcap/connection_tracker.cpp
  src/inspect/pcap/capture_reader.cpp)
