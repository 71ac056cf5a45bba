# Compiler warnings as an INTERFACE target, linked PRIVATE by every target of ours.
add_library(b24sync_warnings INTERFACE)
target_compile_options(b24sync_warnings INTERFACE -Wall -Wextra -Wpedantic -Wnon-virtual-dtor
                                                  $<$<CXX_COMPILER_ID:GNU>:-Wshadow=local>
                                                  $<$<CXX_COMPILER_ID:Clang>:-Wshadow-uncaptured-local>
                                                  $<$<BOOL:${B24SYNC_WERROR}>:-Werror>
                                                  # GCC 12 reports false maybe-uninitialized (<regex>) and restrict
                                                  # (string concatenation) warnings when optimising: keep them, not as errors.
                                                  $<$<AND:$<CXX_COMPILER_ID:GNU>,$<NOT:$<CONFIG:Debug>>>:-Wno-error=maybe-uninitialized -Wno-error=restrict>)
