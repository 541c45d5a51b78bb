# Runs one libFuzzer target for SECONDS on the seeds in SEEDS (read only)
# and the corpus it grew before in CORPUS (written), with DICT if there is
# one; crash, leak, timeout and undefined-behaviour inputs go to ARTIFACTS.
# Fails on any of them, and when the target is missing.
if(NOT EXISTS ${FUZZER})
  message(FATAL_ERROR "${FUZZER} is missing: build the main build (it builds the fuzz build)")
endif()
if(NOT IS_DIRECTORY ${SEEDS})
  message(FATAL_ERROR "no seed corpus at ${SEEDS}")
endif()
file(MAKE_DIRECTORY ${CORPUS} ${ARTIFACTS})
set(args -max_total_time=${SECONDS} -timeout=10 -print_final_stats=1
         -artifact_prefix=${ARTIFACTS}/)
if(EXISTS ${DICT})
  list(APPEND args -dict=${DICT})
endif()
execute_process(COMMAND ${FUZZER} ${args} ${CORPUS} ${SEEDS} RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  file(GLOB found ${ARTIFACTS}/*)
  message(FATAL_ERROR "${FUZZER} failed (${result}); inputs: ${found}")
endif()
