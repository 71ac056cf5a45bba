# ASan + UBSan as an INTERFACE target; empty unless B24SYNC_SANITIZE is on.
add_library(b24sync_sanitizers INTERFACE)
if(B24SYNC_SANITIZE)
  set(_b24_san -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_compile_options(b24sync_sanitizers INTERFACE ${_b24_san})
  target_link_options(b24sync_sanitizers INTERFACE ${_b24_san})
endif()

# Common settings for a target of ours: warnings, sanitizers, C++20.
function(b24sync_target_defaults target)
  target_link_libraries(${target} PRIVATE b24sync_warnings b24sync_sanitizers)
  target_compile_features(${target} PUBLIC cxx_std_20)
endfunction()
