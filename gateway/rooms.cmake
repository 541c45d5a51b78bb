# comet_room(NAME FORBID REGEX): the library comet_NAME from gateway/NAME/
# (sources in it and in its detail/), and a check, run whenever a file of the
# room changes, that no #include line of the room matches REGEX.
function(comet_room name)
  cmake_parse_arguments(ROOM "" "FORBID" "" ${ARGN})
  set(dir ${CMAKE_CURRENT_SOURCE_DIR}/${name})
  file(GLOB_RECURSE files CONFIGURE_DEPENDS ${dir}/*.cpp ${dir}/*.hpp ${dir}/*.in)
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${dir}/*.cpp)
  if(name STREQUAL "app")
    list(REMOVE_ITEM sources ${dir}/main.cpp)
  endif()
  add_library(comet_${name} STATIC ${sources})
  target_include_directories(comet_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  set(stamp ${CMAKE_CURRENT_BINARY_DIR}/room_${name}.checked)
  add_custom_command(
    OUTPUT ${stamp}
    COMMAND ${CMAKE_COMMAND} -DROOM=${name} -DROOM_DIR=${dir} "-DFORBID=${ROOM_FORBID}"
            -P ${PROJECT_SOURCE_DIR}/gateway/check_room.cmake
    COMMAND ${CMAKE_COMMAND} -E touch ${stamp}
    DEPENDS ${files} ${PROJECT_SOURCE_DIR}/gateway/check_room.cmake
    COMMENT "Checking the includes of gateway/${name}/"
    VERBATIM)
  add_custom_target(comet_${name}_room DEPENDS ${stamp})
  add_dependencies(comet_${name} comet_${name}_room)
endfunction()
