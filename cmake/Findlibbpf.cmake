# Finds libbpf through pkg-config (Debian's libbpf-dev ships no CMake package) and
# provides the imported target libbpf::libbpf.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(PC_LIBBPF QUIET libbpf)
endif()
find_path(libbpf_INCLUDE_DIR bpf/libbpf.h HINTS ${PC_LIBBPF_INCLUDE_DIRS})
find_library(libbpf_LIBRARY NAMES bpf HINTS ${PC_LIBBPF_LIBRARY_DIRS})
set(libbpf_VERSION ${PC_LIBBPF_VERSION})

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(libbpf
  REQUIRED_VARS libbpf_LIBRARY libbpf_INCLUDE_DIR
  VERSION_VAR libbpf_VERSION)

if(libbpf_FOUND AND NOT TARGET libbpf::libbpf)
  add_library(libbpf::libbpf UNKNOWN IMPORTED)
  set_target_properties(libbpf::libbpf PROPERTIES
    IMPORTED_LOCATION "${libbpf_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${libbpf_INCLUDE_DIR}")
endif()
mark_as_advanced(libbpf_INCLUDE_DIR libbpf_LIBRARY)
