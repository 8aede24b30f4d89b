# Real-process tests of tests/crash/: the writer program (also driven under
# libfiu's POSIX preload by tests/fiu.cmake), the SIGKILL crash driver and
# the full-disk tests. They use only the public API and the real POSIX
# backend, so they run in every build, Release included.
set(RLOG_CRASH_DIR ${CMAKE_CURRENT_SOURCE_DIR}/crash)

add_library(rlog_crash_workload STATIC ${RLOG_CRASH_DIR}/workload.c)
target_include_directories(rlog_crash_workload PUBLIC ${RLOG_CRASH_DIR})
target_link_libraries(rlog_crash_workload PUBLIC rlog_static)
target_compile_options(rlog_crash_workload PRIVATE ${RLOG_WARNINGS})

add_executable(rlog_crash_writer ${RLOG_CRASH_DIR}/writer.c)
target_link_libraries(rlog_crash_writer PRIVATE rlog_crash_workload)
target_compile_options(rlog_crash_writer PRIVATE ${RLOG_WARNINGS})

foreach(name crash_test full_disk_test)
  add_executable(${name} ${RLOG_CRASH_DIR}/${name}.c)
  target_link_libraries(${name} PRIVATE rlog_crash_workload rlog_testlib)
  target_compile_options(${name} PRIVATE ${RLOG_WARNINGS})
  target_compile_definitions(${name} PRIVATE _GNU_SOURCE)
endforeach()

# The crash driver's three tests (SIGKILL during appends, during the other
# operations, at every system call boundary) are separate ctest cases, so a
# parallel ctest overlaps their fsync waits. The third finds the boundaries
# through the libfiu points: only builds that have them register it.
set(_rlog_crash_parts append each_op)
if(RLOG_FAULT_INJECTION)
  list(APPEND _rlog_crash_parts each_syscall)
endif()
foreach(part ${_rlog_crash_parts})
  add_test(NAME crash_kill_${part} COMMAND crash_test "*_${part}_*")
  set_tests_properties(crash_kill_${part} PROPERTIES TIMEOUT 300
    ENVIRONMENT "RLOG_TEST_TMPDIR=${CMAKE_CURRENT_BINARY_DIR}/tmp")
endforeach()
add_test(NAME full_disk_test COMMAND full_disk_test)
set_tests_properties(full_disk_test PROPERTIES TIMEOUT 300
  ENVIRONMENT "RLOG_TEST_TMPDIR=${CMAKE_CURRENT_BINARY_DIR}/tmp")
