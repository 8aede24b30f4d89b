# cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK=... -DCC=... [-DCFLAGS=...]
#       [-DCONFIG=...] -P test_install.cmake
#
# Install the build into a fresh prefix, then build examples/consumer
# against it three ways (find_package with the shared and the static
# library, and make with pkg-config) and run each, plus the installed
# rlog and rlog-sim.
cmake_minimum_required(VERSION 3.20)
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
    ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "failed (${rc}): ${cmd}\n${out}\n${err}")
  endif()
  set(run_out "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(prefix ${WORK}/prefix)
set(cfg)
if(CONFIG)
  set(cfg --config ${CONFIG})
endif()
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix} ${cfg})

foreach(f include/rlog/rlog.h include/rlog/vfs.h bin/rlog bin/rlog-sim)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()
file(GLOB_RECURSE pcs ${prefix}/*/rlog.pc)
file(GLOB_RECURSE configs ${prefix}/*/rlogConfig.cmake)
file(GLOB_RECURSE statics ${prefix}/*/librlog.a)
file(GLOB_RECURSE sonames ${prefix}/*/librlog.so.0)
foreach(v pcs configs statics sonames)
  if(NOT ${v})
    message(FATAL_ERROR "not installed: ${v}")
  endif()
endforeach()
get_filename_component(pcdir ${pcs} DIRECTORY)

# find_package(rlog): rlog::rlog (shared), then rlog::rlog_static.
set(flags -DCMAKE_C_COMPILER=${CC} -DCMAKE_PREFIX_PATH=${prefix}
  "-DCMAKE_C_FLAGS=${CFLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${CFLAGS}"
  -DCMAKE_BUILD_TYPE=Release)
foreach(variant shared static)
  set(b ${WORK}/cmake-${variant})
  set(extra)
  if(variant STREQUAL "static")
    set(extra -DRLOG_USE_STATIC_LIBS=ON)
  endif()
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/examples/consumer -B ${b} ${flags}
      ${extra})
  run(${CMAKE_COMMAND} --build ${b})
  run(${b}/node ${WORK}/data-${variant})
  message(STATUS "find_package, ${variant}: ${run_out}")
endforeach()

# pkg-config and make.
set(ENV{PKG_CONFIG_PATH} ${pcdir})
file(MAKE_DIRECTORY ${WORK}/make)
run(make -s -C ${SOURCE_DIR}/examples/consumer O=${WORK}/make CC=${CC}
    "CFLAGS=-O1 -Wall -Wextra -Werror ${CFLAGS}" "LDFLAGS=${CFLAGS}")
run(${WORK}/make/node ${WORK}/data-make)
message(STATUS "pkg-config: ${run_out}")

# The installed tools work on what the example left.
run(${prefix}/bin/rlog verify ${WORK}/data-make)
run(${prefix}/bin/rlog-sim --help)
