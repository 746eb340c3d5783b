# Mapping engine suites: selectors, decoders, integration compiler, engine.
ab_unit_test(check_selector SOURCES unit/check_selector.c LIBS ab_transform)
ab_unit_test(check_decode SOURCES unit/check_decode.c LIBS ab_transform)
ab_unit_test(check_integration SOURCES unit/check_integration.c LIBS ab_transform)
ab_unit_test(check_transform SOURCES unit/check_transform.c LIBS ab_transform)
ab_unit_test(check_transform_bounds SOURCES unit/check_transform_bounds.c LIBS ab_transform)
