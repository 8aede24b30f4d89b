# Packaging checks (cmake/install.cmake): the shared library exports only
# the public API, and an installed rlog is usable from another project
# through find_package(rlog) and through pkg-config. Included by
# tests/CMakeLists.txt.
if(CMAKE_NM)
  set(RLOG_NM ${CMAKE_NM})
else()
  find_program(RLOG_NM nm)
endif()
add_test(NAME shared_lib_exports
  COMMAND ${CMAKE_COMMAND} -DLIB=$<TARGET_FILE:rlog_shared> -DNM=${RLOG_NM}
          "-DHEADERS=${CMAKE_SOURCE_DIR}/engine/include/rlog/rlog.h;${CMAKE_SOURCE_DIR}/engine/include/rlog/vfs.h"
          -P ${CMAKE_SOURCE_DIR}/cmake/check_exports.cmake)

if(EXISTS ${CMAKE_SOURCE_DIR}/cmake/install.cmake)
  # A sanitizer build installs instrumented libraries: the consumer must
  # be built with the same flags to link them.
  set(RLOG_CONSUMER_FLAGS "")
  if(RLOG_SANITIZE)
    set(RLOG_CONSUMER_FLAGS "-fsanitize=address,undefined")
  endif()
  add_test(NAME install_consumer
    COMMAND ${CMAKE_COMMAND} -DBUILD_DIR=${CMAKE_BINARY_DIR}
            -DSOURCE_DIR=${CMAKE_SOURCE_DIR}
            -DWORK=${CMAKE_CURRENT_BINARY_DIR}/tmp/install_consumer
            -DCC=${CMAKE_C_COMPILER} "-DCFLAGS=${RLOG_CONSUMER_FLAGS}"
            -DCONFIG=$<CONFIG>
            -P ${CMAKE_SOURCE_DIR}/cmake/test_install.cmake)
  set_tests_properties(install_consumer PROPERTIES TIMEOUT 300)
endif()
