# Warnings as errors for our own code only; third-party headers come in as SYSTEM.
function(ebpfpub_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Werror
                         -Wno-missing-field-initializers)
endfunction()
