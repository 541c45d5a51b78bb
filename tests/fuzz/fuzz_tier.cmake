# The fuzz tier of the main build: the libFuzzer targets of tests/fuzz/,
# built by clang-14 in a build of their own (fuzz/ under this build: the
# main build is g++'s), each run for a bounded time as a test labelled
# `fuzz`. The generated corpus and any crash input stay in this build
# (fuzz-corpus/, fuzz-artifacts/); tests/fuzz/corpus/ holds the seeds and
# is only read.
set(COMET_FUZZ_SECONDS 15 CACHE STRING "Seconds each fuzz target runs in the fuzz tier")
file(GLOB COMET_FUZZ_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/*_fuzz.cpp)

# clang-14 must also link libFuzzer and its sanitizers (libclang-rt-14-dev).
find_program(COMET_FUZZ_CLANGXX clang++-14)
set(fuzz_missing "")
if(NOT COMET_FUZZ_CLANGXX)
  set(fuzz_missing "clang++-14 is not installed")
else()
  set(probe_dir ${CMAKE_CURRENT_BINARY_DIR}/fuzz-probe)
  file(WRITE ${probe_dir}/probe.cpp
       "#include <cstddef>\n#include <cstdint>\nextern \"C\" int LLVMFuzzerTestOneInput("
       "const std::uint8_t*, std::size_t) { return 0; }\n")
  execute_process(COMMAND ${COMET_FUZZ_CLANGXX} -fsanitize=fuzzer,address,undefined
                          ${probe_dir}/probe.cpp -o ${probe_dir}/probe
                  RESULT_VARIABLE probe_result OUTPUT_QUIET ERROR_VARIABLE probe_error)
  if(NOT probe_result EQUAL 0)
    set(fuzz_missing "clang++-14 cannot link -fsanitize=fuzzer,address,undefined: ${probe_error}")
  endif()
endif()

if(fuzz_missing)
  # Said in the configure output and, as a skipped test, in ctest's summary.
  message(WARNING "The fuzz tier is not built: ${fuzz_missing} "
                  "(scripts/install-deps.sh installs clang-14 and libclang-rt-14-dev)")
  add_test(NAME FuzzTierNotBuilt
           COMMAND ${CMAKE_COMMAND} -E echo "fuzz tier not built: ${fuzz_missing}")
  set_tests_properties(FuzzTierNotBuilt PROPERTIES LABELS fuzz
                                                   SKIP_REGULAR_EXPRESSION "fuzz tier not built")
  return()
endif()

include(ExternalProject)
set(fuzz_build ${PROJECT_BINARY_DIR}/fuzz)
set(fuzz_args -DCMAKE_CXX_COMPILER=${COMET_FUZZ_CLANGXX} -DCMAKE_BUILD_TYPE=RelWithDebInfo
              -DCOMET_FUZZERS=ON -DCOMET_BUILD_FUZZ=OFF -DCOMET_BUILD_TESTS=OFF
              -DCOMET_BUILD_BENCH=OFF)
if(CMAKE_CXX_COMPILER_LAUNCHER)
  list(APPEND fuzz_args -DCMAKE_CXX_COMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER})
endif()
# Built after the main binaries, two jobs at a time, so that it does not
# add its compilers to the main build's.
ExternalProject_Add(comet_fuzz_build
  SOURCE_DIR ${PROJECT_SOURCE_DIR}
  BINARY_DIR ${fuzz_build}
  PREFIX ${CMAKE_CURRENT_BINARY_DIR}/fuzz-build
  CMAKE_ARGS ${fuzz_args}
  BUILD_COMMAND ${CMAKE_COMMAND} --build ${fuzz_build} --target comet_fuzzers --parallel 2
  INSTALL_COMMAND ""
  BUILD_ALWAYS ON
  USES_TERMINAL_CONFIGURE ON
  USES_TERMINAL_BUILD ON)
add_dependencies(comet_fuzz_build unit_tests)
if(TARGET integration_tests)
  add_dependencies(comet_fuzz_build integration_tests)
endif()

foreach(src ${COMET_FUZZ_SOURCES})
  get_filename_component(name ${src} NAME_WE)
  string(REGEX REPLACE "_fuzz$" "" target ${name})
  add_test(NAME Fuzz.${target}
           COMMAND ${CMAKE_COMMAND} -DFUZZER=${fuzz_build}/${name}
                   -DSEEDS=${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/${target}
                   -DDICT=${CMAKE_CURRENT_SOURCE_DIR}/fuzz/${target}.dict
                   -DCORPUS=${CMAKE_CURRENT_BINARY_DIR}/fuzz-corpus/${target}
                   -DARTIFACTS=${CMAKE_CURRENT_BINARY_DIR}/fuzz-artifacts/${target}
                   -DSECONDS=${COMET_FUZZ_SECONDS}
                   -P ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/run_fuzzer.cmake)
  set_tests_properties(Fuzz.${target} PROPERTIES LABELS fuzz TIMEOUT 180)
endforeach()
