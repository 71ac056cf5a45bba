# Compiler warnings as an INTERFACE target, linked PRIVATE by every target of ours.
add_library(b24sync_warnings INTERFACE)
target_compile_options(b24sync_warnings INTERFACE -Wall -Wextra -Wpedantic -Wnon-virtual-dtor
                                                  $<$<CXX_COMPILER_ID:GNU>:-Wshadow=local>
                                                  $<$<CXX_COMPILER_ID:Clang>:-Wshadow-uncaptured-local>
                                                  $<$<BOOL:${B24SYNC_WERROR}>:-Werror>
                                                  # GCC 12 reports false maybe-uninitialized (<regex>) warnings when
                                                  # optimising: keep them, not as errors. Its -Wrestrict fires on
                                                  # every `"x" + std::string` it inlines (a GCC 12 regression, fixed
                                                  # in 13): dozens of lines of noise in each Release build, the
                                                  # demo's included, and never a finding; off there.
                                                  $<$<AND:$<CXX_COMPILER_ID:GNU>,$<NOT:$<CONFIG:Debug>>>:-Wno-error=maybe-uninitialized -Wno-restrict>)
