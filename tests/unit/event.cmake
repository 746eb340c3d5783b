# CloudEvent writer and stateless event ids (transform/event.c).
ab_unit_test(check_event
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/check_event.c
  LIBS ab_transform)
