# Compiler warnings as an INTERFACE target, linked PRIVATE by every target of ours.
add_library(b24sync_warnings INTERFACE)
target_compile_options(b24sync_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow=local -Wnon-virtual-dtor
                                                  $<$<BOOL:${B24SYNC_WERROR}>:-Werror>)
