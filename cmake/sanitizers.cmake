# AddressSanitizer + UndefinedBehaviorSanitizer for every target when AB_SANITIZE is on.
if(AB_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
