# Installation and packaging: `cmake --install BUILD [--prefix P]` puts
#   include/rlog/{rlog.h,vfs.h}
#   lib/librlog.a, lib/librlog.so.0.1.0 (SONAME librlog.so.0) + links
#   bin/rlog, bin/rlog-sim
#   lib/pkgconfig/rlog.pc                  pkg-config --cflags --libs rlog
#   lib/cmake/rlog/rlogConfig*.cmake       find_package(rlog) -> rlog::rlog
#   share/doc/rlog/*.md
# Both package files are relocatable: they find the prefix from their own
# location, so --prefix at install time is honoured.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(RLOG_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/rlog)

install(FILES
  ${CMAKE_SOURCE_DIR}/engine/include/rlog/rlog.h
  ${CMAKE_SOURCE_DIR}/engine/include/rlog/vfs.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/rlog)

set_target_properties(rlog_static PROPERTIES EXPORT_NAME rlog_static)
set_target_properties(rlog_shared PROPERTIES EXPORT_NAME rlog_shared)
install(TARGETS rlog_static rlog_shared EXPORT rlogTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

foreach(tool rlog rlog-sim)
  if(TARGET ${tool})
    install(TARGETS ${tool} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
endforeach()

install(EXPORT rlogTargets NAMESPACE rlog:: FILE rlogTargets.cmake
  DESTINATION ${RLOG_CMAKE_DIR})

# The static library's link interface names PkgConfig::PROTOBUF_C (and
# PkgConfig::FIU in builds with failure points): the package config
# recreates them through pkg-config before it loads the targets.
if(RLOG_FAULT_INJECTION)
  set(RLOG_PACKAGE_NEEDS_FIU ON)
  set(RLOG_PC_REQUIRES_PRIVATE "libprotobuf-c libfiu")
else()
  set(RLOG_PACKAGE_NEEDS_FIU OFF)
  set(RLOG_PC_REQUIRES_PRIVATE "libprotobuf-c")
endif()
configure_package_config_file(
  ${CMAKE_CURRENT_LIST_DIR}/rlogConfig.cmake.in
  ${CMAKE_BINARY_DIR}/rlogConfig.cmake
  INSTALL_DESTINATION ${RLOG_CMAKE_DIR})
# 0.x: a new minor version may break the API, so only the same minor
# version is compatible.
write_basic_package_version_file(
  ${CMAKE_BINARY_DIR}/rlogConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${CMAKE_BINARY_DIR}/rlogConfig.cmake
  ${CMAKE_BINARY_DIR}/rlogConfigVersion.cmake
  DESTINATION ${RLOG_CMAKE_DIR})

# rlog.pc finds the prefix from its own directory (${pcfiledir}).
file(RELATIVE_PATH RLOG_PC_TO_PREFIX
  /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" RLOG_PC_TO_PREFIX "${RLOG_PC_TO_PREFIX}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/rlog.pc.in
  ${CMAKE_BINARY_DIR}/rlog.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/rlog.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

file(GLOB RLOG_DOCS ${CMAKE_SOURCE_DIR}/docs/*.md)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${RLOG_DOCS}
  DESTINATION ${CMAKE_INSTALL_DOCDIR})
