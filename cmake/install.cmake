# SPDX-License-Identifier: Apache-2.0
# The package files of the installed library, next to what core/ and
# keystore-formats/ install (libraries, headers): a CMake package giving
# stek::core and stek::formats, and stek.pc for pkg-config. Both find the
# prefix from where they were installed, so `cmake --install --prefix` and
# DESTDIR staging work without reconfiguring.

include(CMakePackageConfigHelpers)

set(STEK_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/stek)
install(EXPORT stekTargets NAMESPACE stek:: DESTINATION ${STEK_CMAKE_DIR})
configure_package_config_file(cmake/stekConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/stekConfig.cmake
  INSTALL_DESTINATION ${STEK_CMAKE_DIR})
# 0.x: SameMajorVersion accepts any 0.y; tighten when the ABI settles.
write_basic_package_version_file(
  ${CMAKE_CURRENT_BINARY_DIR}/stekConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES
  ${CMAKE_CURRENT_BINARY_DIR}/stekConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/stekConfigVersion.cmake
  DESTINATION ${STEK_CMAKE_DIR})

# stek.pc: paths relative to ${pcfiledir} unless the install dirs are
# absolute. A static libstek needs libssl and libcrypto on every link line
# (Requires) and, being C++, the C++ runtime too, so that a C program links
# with `cc ... $(pkg-config --libs stek)`; a shared one links all that
# itself and needs only OpenSSL's compile flags (Requires.private). -pthread
# for the provider's watcher thread (in libc since glibc 2.34, harmless).
function(stek_pc_dir var dir)
  if(IS_ABSOLUTE "${dir}")
    set(${var} "${dir}" PARENT_SCOPE)
  else()
    set(${var} "\${prefix}/${dir}" PARENT_SCOPE)
  endif()
endfunction()
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(STEK_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH stek_pc_up /p/${CMAKE_INSTALL_LIBDIR}/pkgconfig /p)
  string(REGEX REPLACE "/$" "" stek_pc_up "${stek_pc_up}")
  set(STEK_PC_PREFIX "\${pcfiledir}/${stek_pc_up}")
endif()
stek_pc_dir(STEK_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
stek_pc_dir(STEK_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
set(STEK_PC_LIBS "-L\${libdir} -lstek_formats -lstek -pthread")
get_target_property(stek_pc_core_type stek_core TYPE)
if(stek_pc_core_type STREQUAL "STATIC_LIBRARY")
  set(STEK_PC_REQUIRES_FIELD Requires)
  # What the C++ compiler links beyond what a C compiler does: libstdc++ (or
  # libc++) and libm, as this compiler named them.
  set(stek_pc_runtime ${CMAKE_CXX_IMPLICIT_LINK_LIBRARIES})
  list(FILTER stek_pc_runtime INCLUDE REGEX "^(stdc\\+\\+|c\\+\\+|c\\+\\+abi|m)$")
  list(REMOVE_DUPLICATES stek_pc_runtime)
  foreach(lib IN LISTS stek_pc_runtime)
    string(APPEND STEK_PC_LIBS " -l${lib}")
  endforeach()
else()
  set(STEK_PC_REQUIRES_FIELD Requires.private)
endif()
configure_file(cmake/stek.pc.in ${CMAKE_CURRENT_BINARY_DIR}/stek.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/stek.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
