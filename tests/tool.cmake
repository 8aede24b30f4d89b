# End-to-end tests of the rlog tool (tools/): healthy, torn and corrupted
# log directories built with the engine and then damaged, d-engine
# directories from an independent generator, every subcommand's output and
# exit status. Included by tests/CMakeLists.txt.
add_executable(tool_helper ${CMAKE_CURRENT_SOURCE_DIR}/tool/tool_helper.c)
target_link_libraries(tool_helper PRIVATE rlog_static)
target_compile_options(tool_helper PRIVATE ${RLOG_WARNINGS})

add_executable(gen_dengine ${CMAKE_CURRENT_SOURCE_DIR}/tool/gen_dengine.c)
target_compile_options(gen_dengine PRIVATE ${RLOG_WARNINGS})

add_test(NAME tool_e2e
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/tool/run_tool_tests.sh
          $<TARGET_FILE:rlog> $<TARGET_FILE:tool_helper>
          $<TARGET_FILE:gen_dengine> ${CMAKE_CURRENT_BINARY_DIR}/tmp/tool_e2e)
set_tests_properties(tool_e2e PROPERTIES TIMEOUT 900)
