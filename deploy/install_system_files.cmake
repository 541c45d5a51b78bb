# Run by `cmake --install` and by cpack (install(SCRIPT) in
# deploy/CMakeLists.txt): the files whose place depends on the prefix the
# install runs with, which cpack sets to /usr whatever the build's prefix.
#
#   prefix /usr (the Debian package): /etc/comet-gateway/comet-gateway.conf,
#     /lib/systemd/system/comet-gateway.service and comet-gateway@.service,
#     the lintian overrides
#   any other prefix P: P/etc/comet-gateway/comet-gateway.conf,
#     P/lib/systemd/system/comet-gateway.service and comet-gateway@.service
#     (systemd reads /usr/local/lib/systemd/system too)
#
# comet-gateway@.service runs one gateway per instance (one per core:
# comet-gateway@1, comet-gateway@2, ...), each on its own socket,
# /run/comet-gateway-N/comet.sock: the same unit with the instance's
# --listen on the command line (which replaces the config file's listen)
# and a runtime directory of its own.
#
# The unit's ExecStart= names the installed binary and config file. An
# existing config file is kept (it is the administrator's); dpkg handles
# its own conffile.
#
# Input: COMET_DEPLOY_DIR (deploy/ of the source tree), COMET_STAGING_DIR
# (a scratch directory of the build tree).

if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(etc_dir /etc)
  set(unit_dir /lib/systemd/system)
else()
  set(etc_dir ${CMAKE_INSTALL_PREFIX}/etc)
  set(unit_dir ${CMAKE_INSTALL_PREFIX}/lib/systemd/system)
endif()

# Replaces in the variable `text_var` each "FROM|TO" pair of the further
# arguments; a FROM that is not in the text is an error (the unit changed).
function(replace_in text_var)
  set(text "${${text_var}}")
  foreach(pair ${ARGN})
    string(REPLACE "|" ";" pair "${pair}")
    list(GET pair 0 from)
    list(GET pair 1 to)
    string(FIND "${text}" "${from}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "deploy/comet-gateway.service has no \"${from}\"")
    endif()
    string(REPLACE "${from}" "${to}" text "${text}")
  endforeach()
  set(${text_var} "${text}" PARENT_SCOPE)
endfunction()

file(READ ${COMET_DEPLOY_DIR}/comet-gateway.service unit)
replace_in(unit
    "ExecStart=/usr/bin/comet-gateway --config /etc/comet-gateway/comet-gateway.conf|ExecStart=${CMAKE_INSTALL_PREFIX}/bin/comet-gateway --config ${etc_dir}/comet-gateway/comet-gateway.conf"
    "Documentation=file:///usr/share/doc/comet-gateway/|Documentation=file://${CMAKE_INSTALL_PREFIX}/share/doc/comet-gateway/")
file(WRITE ${COMET_STAGING_DIR}/comet-gateway.service "${unit}")

set(template "${unit}")
replace_in(template
    "\nDescription=comet-gateway: |\nDescription=comet-gateway instance %i: "
    "comet-gateway.conf\n# SIGHUP|comet-gateway.conf --listen unix:/run/comet-gateway-%i/comet.sock\n# SIGHUP"
    "\nRuntimeDirectory=comet-gateway\n|\nRuntimeDirectory=comet-gateway-%i\n"
    "# The FastCGI socket is /run/comet-gateway/comet.sock|# This is the template of one gateway per instance (comet-gateway@1,\n# comet-gateway@2, ...: one per core, README.md \"Several cores\"). Instance N\n# listens on /run/comet-gateway-N/comet.sock, given on the command line,\n# which replaces the listen of the config file they share.\n#\n# The FastCGI socket is /run/comet-gateway-N/comet.sock")
file(WRITE ${COMET_STAGING_DIR}/comet-gateway@.service "${template}")
file(INSTALL ${COMET_STAGING_DIR}/comet-gateway.service ${COMET_STAGING_DIR}/comet-gateway@.service
     DESTINATION ${unit_dir} FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

# Not readable by others even before postinst gives it to the service's
# group (root:comet-gateway 0640).
set(conf "${etc_dir}/comet-gateway/comet-gateway.conf")
if(EXISTS "$ENV{DESTDIR}${conf}")
  message(STATUS "Kept: $ENV{DESTDIR}${conf} (the installed example is in share/comet-gateway/examples)")
else()
  file(INSTALL ${COMET_DEPLOY_DIR}/comet-gateway.conf.example DESTINATION ${etc_dir}/comet-gateway
       RENAME comet-gateway.conf FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
endif()

if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  file(INSTALL ${COMET_DEPLOY_DIR}/debian/lintian-overrides DESTINATION /usr/share/lintian/overrides
       RENAME comet-gateway FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endif()
