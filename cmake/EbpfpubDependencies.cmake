# Finds every dependency and stops configure with the Debian package to install when one
# is missing. scripts/setup installs all of them.

function(ebpfpub_require found what package)
  if(NOT ${found})
    message(FATAL_ERROR
      "ebpfpub: ${what} was not found. Install it with `apt-get install ${package}` "
      "or run scripts/setup, which installs every dependency.")
  endif()
endfunction()

# LLVM's version file accepts only an exact major.minor, so ask for no version and check
# the major one ourselves.
find_package(LLVM CONFIG QUIET NO_DEFAULT_PATH
             PATHS /usr/lib/llvm-19/lib/cmake/llvm ${LLVM_DIR})
ebpfpub_require(LLVM_FOUND "LLVM 19 (IR builder and BPF back end)" llvm-19-dev)
if(LLVM_VERSION_MAJOR LESS 19)
  message(FATAL_ERROR "ebpfpub: found LLVM ${LLVM_PACKAGE_VERSION} at ${LLVM_DIR}; it needs "
                      "LLVM 19 or newer. Install it with `apt-get install llvm-19-dev`.")
endif()
if(NOT "BPF" IN_LIST LLVM_TARGETS_TO_BUILD)
  message(FATAL_ERROR "ebpfpub: LLVM ${LLVM_PACKAGE_VERSION} at ${LLVM_DIR} was built without "
                      "the BPF target; install Debian's llvm-19-dev, which has it.")
endif()
message(STATUS "ebpfpub: LLVM ${LLVM_PACKAGE_VERSION} from ${LLVM_DIR}")

find_package(Boost 1.66 QUIET)
ebpfpub_require(Boost_FOUND "Boost.Hana (Boost headers)" libboost-dev)

find_package(fmt QUIET)
ebpfpub_require(fmt_FOUND "fmt" libfmt-dev)

find_package(libbpf QUIET)
ebpfpub_require(libbpf_FOUND "libbpf" "libbpf-dev libelf-dev zlib1g-dev")

find_package(nlohmann_json 3 QUIET)
ebpfpub_require(nlohmann_json_FOUND "nlohmann/json" nlohmann-json3-dev)

find_package(CLI11 QUIET)
ebpfpub_require(CLI11_FOUND "CLI11" libcli11-dev)

find_package(Catch2 2 QUIET)
ebpfpub_require(Catch2_FOUND "Catch2 v2" catch2)

find_package(Threads REQUIRED)

if(EBPFPUB_BUILD_SINKS)
  # Debian ships pkg-config files for both (libnats-dev 3.4, librdkafka-dev 2.0).
  find_package(PkgConfig QUIET)
  ebpfpub_require(PKG_CONFIG_FOUND "pkg-config" pkg-config)
  pkg_check_modules(libnats QUIET IMPORTED_TARGET libnats)
  ebpfpub_require(libnats_FOUND "the NATS C client (for ebpfpub_sinks; or -DEBPFPUB_BUILD_SINKS=OFF)" libnats-dev)
  pkg_check_modules(rdkafka QUIET IMPORTED_TARGET rdkafka)
  ebpfpub_require(rdkafka_FOUND "librdkafka (for ebpfpub_sinks; or -DEBPFPUB_BUILD_SINKS=OFF)" librdkafka-dev)
endif()

# LLVM as one imported target: the shared libLLVM when Debian ships it (fast links),
# otherwise the static component libraries the backend uses.
if(NOT TARGET ebpfpub_llvm)
  add_library(ebpfpub_llvm INTERFACE)
  target_include_directories(ebpfpub_llvm SYSTEM INTERFACE ${LLVM_INCLUDE_DIRS})
  separate_arguments(_llvm_defs NATIVE_COMMAND "${LLVM_DEFINITIONS}")
  target_compile_definitions(ebpfpub_llvm INTERFACE ${_llvm_defs})
  if(LLVM_LINK_LLVM_DYLIB OR TARGET LLVM)
    target_link_libraries(ebpfpub_llvm INTERFACE LLVM)
  else()
    llvm_map_components_to_libnames(_llvm_libs
      bpfcodegen bpfdesc bpfinfo core object passes support target targetparser mc)
    target_link_libraries(ebpfpub_llvm INTERFACE ${_llvm_libs})
  endif()
endif()
