list(APPEND STEK_INSPECT_SOURCES
  src/inspect/report/sighting.cpp
  src/inspect/report/input.cpp
  src/inspect/report/inspector.cpp
  src/inspect/report/summary.cpp)
