# packaging.cmake - install rules and the Debian package (`cpack -G DEB` in a build tree; tests/deploy/check_deb.sh builds, installs and runs it).
#
# The package installs the binary, the built-in integrations (reference
# copies: the binary embeds them), the systemd units, a default config in
# /etc/alertbridge/ (examples/pipeline.yaml and the integration it names,
# kept as conffiles), the example ingest config (not in /etc: like the
# sink, the ingest unit starts only once /etc/alertbridge/ingest.yaml is
# written) and the documentation. Depends is computed by
# dpkg-shlibdeps from the binary's libraries.
include(GNUInstallDirs)

install(TARGETS alertbridge RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
file(GLOB AB_BUILTIN_INTEGRATIONS ${CMAKE_SOURCE_DIR}/integrations/*.yaml)
install(FILES ${AB_BUILTIN_INTEGRATIONS}
  DESTINATION ${CMAKE_INSTALL_DATADIR}/alertbridge/integrations)
install(FILES ${CMAKE_SOURCE_DIR}/deploy/systemd/alertbridge.service
              ${CMAKE_SOURCE_DIR}/deploy/systemd/alertbridge-sink.service
              ${CMAKE_SOURCE_DIR}/deploy/systemd/alertbridge-ingest.service
  DESTINATION lib/systemd/system)
install(FILES ${CMAKE_SOURCE_DIR}/examples/ingest.yaml
  DESTINATION ${CMAKE_INSTALL_DATADIR}/alertbridge/examples)
install(FILES ${CMAKE_SOURCE_DIR}/examples/pipeline.yaml
  DESTINATION /etc/alertbridge)
install(FILES ${CMAKE_SOURCE_DIR}/examples/integrations/network-monitor.yaml
  DESTINATION /etc/alertbridge/integrations)
file(GLOB AB_DOCS ${CMAKE_SOURCE_DIR}/docs/*.md)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${AB_DOCS}
  DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(AB_CONFFILES ${CMAKE_BINARY_DIR}/packaging/conffiles)
file(WRITE ${AB_CONFFILES}
  "/etc/alertbridge/pipeline.yaml\n"
  "/etc/alertbridge/integrations/network-monitor.yaml\n")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME alertbridge)
set(CPACK_PACKAGE_VENDOR alertbridge)
set(CPACK_PACKAGE_CONTACT "alertbridge maintainers <alertbridge@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "alert normalization pipeline for Kafka (CloudEvents, EventBridge sink)")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS ca-certificates)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${AB_CONFFILES}
  ${CMAKE_SOURCE_DIR}/deploy/debian/postinst
  ${CMAKE_SOURCE_DIR}/deploy/debian/prerm
  ${CMAKE_SOURCE_DIR}/deploy/debian/postrm)
include(CPack)
