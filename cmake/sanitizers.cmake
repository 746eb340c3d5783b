# AddressSanitizer + UndefinedBehaviorSanitizer for every target when
# AB_SANITIZE is on; ThreadSanitizer (which excludes ASan) when AB_TSAN is.
if(AB_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
if(AB_TSAN)
  if(AB_SANITIZE)
    message(FATAL_ERROR "AB_TSAN and AB_SANITIZE cannot be combined")
  endif()
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()
