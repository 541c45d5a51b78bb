# Runs the unit tests under strace and fails if any of them opened a socket
# or started a process: the unit tier is pure logic (README, "Layout").
# LeakSanitizer cannot run under ptrace: a sanitized build checks leaks in
# its own run of the unit tier, not here.
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=0
          strace -f -qq -e trace=socket,connect,bind,listen,execve,fork,vfork -o ${TRACE}
          ${UNIT_TESTS} --gtest_brief=1
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "unit_tests failed under strace (exit ${rc}):\n${out}")
endif()
file(STRINGS ${TRACE} calls)
set(bad "")
foreach(line ${calls})
  # The one execve that starts unit_tests itself is expected.
  string(FIND "${line}" "execve(\"${UNIT_TESTS}\"" self)
  if(NOT self EQUAL -1)
    continue()
  endif()
  if(line MATCHES "(socket|connect|bind|listen|execve|fork|vfork)\\(")
    list(APPEND bad "${line}")
  endif()
endforeach()
if(bad)
  string(REPLACE ";" "\n" bad "${bad}")
  message(FATAL_ERROR "the unit tier opened a socket or started a process:\n${bad}")
endif()
message(STATUS "unit tier: no socket, no process (${TRACE})")
