# libfiu checks.
#
# 1. Production builds carry no libfiu: with RLOG_FAULT_INJECTION=OFF no
#    symbol of librlog.so (nm -D) or librlog.a (nm) contains "fiu" and
#    librlog.so does not list libfiu as NEEDED (readelf -d). Builds with the
#    failure points run the same check expecting libfiu, which proves the
#    check can see it.
# 2. libfiu's POSIX preload (fiu-run -x) fails real libc calls under the
#    unmodified writer program (tests/crash/fiu_run_test.sh).
find_program(RLOG_NM NAMES nm llvm-nm-14 llvm-nm)
find_program(RLOG_READELF NAMES readelf llvm-readelf-14 llvm-readelf)
if(RLOG_NM AND RLOG_READELF)
  if(RLOG_FAULT_INJECTION)
    set(_rlog_fiu_want present)
    set(_rlog_fiu_test fiu_fault_build_links_libfiu)
  else()
    set(_rlog_fiu_want absent)
    set(_rlog_fiu_test fiu_release_build_has_no_libfiu)
  endif()
  add_test(NAME ${_rlog_fiu_test}
    COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/crash/check_fiu_symbols.sh
            ${_rlog_fiu_want} $<TARGET_FILE:rlog_shared>
            $<TARGET_FILE:rlog_static> ${RLOG_NM} ${RLOG_READELF})
endif()

# The preload test runs in every build. In the gcc ASan build fiu-run itself
# cannot be used: it puts libfiu's preload libraries first in LD_PRELOAD and
# gcc's ASan runtime refuses to start unless it comes first. The script then
# builds fiu-run's environment by hand with the ASan runtime first
# (TOOLING.md's workaround) and suppresses LeakSanitizer reports about
# libfiu's own allocations. clang links its ASan runtime statically, so plain
# fiu-run works there.
set(_rlog_fiu_asan "")
if(RLOG_SANITIZE AND CMAKE_C_COMPILER_ID STREQUAL "GNU")
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libasan.so
    OUTPUT_VARIABLE _rlog_fiu_asan OUTPUT_STRIP_TRAILING_WHITESPACE)
endif()
add_test(NAME fiu_run_writer_keeps_acknowledged
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/crash/fiu_run_test.sh
          $<TARGET_FILE:rlog_crash_writer>
          ${CMAKE_CURRENT_BINARY_DIR}/tmp/fiu-run ${_rlog_fiu_asan})
set_tests_properties(fiu_run_writer_keeps_acknowledged PROPERTIES
  TIMEOUT 600 SKIP_RETURN_CODE 77)
