# Install layout and the Debian package: `cmake --install` puts the binary, the systemd units, the
# example configurations and the docs in place; `cpack -G DEB` (or `cmake --build B --target package`)
# builds b24sync_<version>_<arch>.deb from the same layout.
include(GNUInstallDirs)

# Relative to the prefix: /usr/lib/systemd/system, where systemd looks for vendor units (merged /usr).
set(B24SYNC_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING "where the unit files are installed")
install(FILES
  ${PROJECT_SOURCE_DIR}/systemd/b24sync.service
  ${PROJECT_SOURCE_DIR}/systemd/b24sync-sync.service
  ${PROJECT_SOURCE_DIR}/systemd/b24sync.timer
  ${PROJECT_SOURCE_DIR}/systemd/b24sync@.service
  DESTINATION ${B24SYNC_SYSTEMD_UNIT_DIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/config/examples/
  DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "b24sync")
set(CPACK_PACKAGE_VENDOR "b24sync")
set(CPACK_PACKAGE_CONTACT "b24sync maintainers <b24sync@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Keeps a Bitrix24 portal's employee accounts in step with the HR directory")
set(CPACK_PACKAGE_INSTALL_DIRECTORY "/usr")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "admin")
# Shared-library dependencies are computed from the binary (dpkg-shlibdeps).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "systemd")
include(CPack)
