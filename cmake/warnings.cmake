# Compiler warnings for project targets; -Werror when AB_WERROR is on (CI).
function(ab_apply_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wpointer-arith -Wformat=2 -Wvla -Wno-unused-parameter)
  if(AB_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
