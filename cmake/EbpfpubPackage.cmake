# CPack: DEB, RPM and TGZ of the library, headers, ebpftracer, CMake package and man page.
#   cd build && cpack            (or: cpack -G DEB)
set(CPACK_PACKAGE_NAME ebpfpub)
set(CPACK_PACKAGE_VENDOR "ebpfpub")
set(CPACK_PACKAGE_CONTACT "ebpfpub developers <ebpfpub@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Records Linux system calls with eBPF programs generated at run time by LLVM")
set(CPACK_PACKAGE_DESCRIPTION "ebpfpub is a C++20 library and the ebpftracer command: it generates eBPF programs with LLVM, attaches them to syscall tracepoints and returns every call as a typed event.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_GENERATOR "DEB;RPM;TGZ")
set(CPACK_STRIP_FILES ON)

# Debian 12 package names: the shared libraries ebpfpub and ebpftracer load, and the
# headers its public headers include.
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libllvm19 (>= 1:19.1), libbpf1 (>= 1:1.1), libfmt9 (>= 9.1), libelf1, zlib1g, libstdc++6 (>= 12), libc6 (>= 2.36)")
if(TARGET ebpfpub_sinks)
  # libebpfpub_sinks.so: the NATS C client and librdkafka.
  string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS ", libnats3.4, librdkafka1 (>= 2.0)")
endif()
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libboost-dev, libfmt-dev")
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)

set(CPACK_RPM_PACKAGE_REQUIRES "llvm-libs >= 19, libbpf >= 1.1, fmt >= 9")
if(TARGET ebpfpub_sinks)
  string(APPEND CPACK_RPM_PACKAGE_REQUIRES ", librdkafka >= 2.0")
endif()
set(CPACK_RPM_PACKAGE_LICENSE "Apache-2.0")
set(CPACK_RPM_PACKAGE_GROUP "Development/Tools")
set(CPACK_RPM_FILE_NAME RPM-DEFAULT)
# Directories every system owns already.
set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION
    /usr/lib/cmake /usr/lib/pkgconfig /usr/share/man /usr/share/man/man1 /usr/include)

include(CPack)
