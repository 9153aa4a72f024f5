# cmake --install: headers, the backend, ebpftracer, a CMake package and a pkg-config file.
include(CMakePackageConfigHelpers)

install(TARGETS ebpfpub EXPORT ebpfpubTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
if(TARGET ebpfpub_sinks)
  # ebpfpub::sinks: libnats and librdkafka stay private to it.
  install(TARGETS ebpfpub_sinks EXPORT ebpfpubTargets
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endif()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/ebpfpub
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT development)
install(FILES ${PROJECT_BINARY_DIR}/include/ebpfpub/version.hpp
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ebpfpub COMPONENT development)
install(FILES ${PROJECT_SOURCE_DIR}/docs/ebpftracer.1
  DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT runtime)
if(TARGET ebpftracer)
  install(TARGETS ebpftracer RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
endif()

set(config_dir ${CMAKE_INSTALL_LIBDIR}/cmake/ebpfpub)
install(EXPORT ebpfpubTargets NAMESPACE ebpfpub:: DESTINATION ${config_dir} COMPONENT development)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/ebpfpubConfig.cmake.in
  ${PROJECT_BINARY_DIR}/ebpfpubConfig.cmake INSTALL_DESTINATION ${config_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ebpfpubConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/ebpfpubConfig.cmake ${PROJECT_BINARY_DIR}/ebpfpubConfigVersion.cmake
  DESTINATION ${config_dir} COMPONENT development)

configure_file(${PROJECT_SOURCE_DIR}/cmake/ebpfpub.pc.in ${PROJECT_BINARY_DIR}/ebpfpub.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/ebpfpub.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT development)
