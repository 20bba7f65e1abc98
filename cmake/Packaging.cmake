# The Debian package (CPack DEB): /usr/bin/mhloader, the systemd unit, the sysusers
# entry, /etc/mhloader/mhloader.yaml as a conffile, the operations docs.
#   cpack --config build/<dir>/CPackConfig.cmake -B OUTDIR     (scripts/package.sh)
# Packaging only collects what is built: build first (the install target then skips "all").
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

install(FILES systemd/mhloader.service DESTINATION lib/systemd/system)
install(FILES packaging/sysusers.conf DESTINATION lib/sysusers.d RENAME mhloader.conf)
install(FILES config/mhloader.yaml DESTINATION /etc/mhloader)
install(FILES README.md docs/operations.md docs/configuration.md DESTINATION share/doc/mhloader)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME mhloader)
set(CPACK_PACKAGE_VENDOR mhloader)
set(CPACK_PACKAGE_CONTACT "mhloader maintainers <mhloader@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Keeps PostgreSQL in sync with a Magic Hour account")
string(CONCAT CPACK_PACKAGE_DESCRIPTION
       "mhloader runs scheduled jobs against the Magic Hour REST API and loads the results into\n"
       "PostgreSQL in the table layout dlt produces. It runs as a systemd service and is operated\n"
       "over HTTP and Prometheus.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # mhloader_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
# Library dependencies come from dpkg-shlibdeps; the user is made by systemd-sysusers
# (adduser where systemd is absent).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd | adduser")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "postgresql, prometheus")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_SOURCE_DIR}/packaging/debian/conffiles
    ${CMAKE_CURRENT_SOURCE_DIR}/packaging/debian/postinst
    ${CMAKE_CURRENT_SOURCE_DIR}/packaging/debian/prerm
    ${CMAKE_CURRENT_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
