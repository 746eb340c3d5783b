# Unit suites of the core module (JSON tape parser, config loader, times,
# byte buffer).
ab_unit_test(check_json SOURCES unit/check_json.c LIBS ab_core)
ab_unit_test(check_json_diff SOURCES unit/check_json_diff.c LIBS ab_core)
ab_unit_test(check_conf SOURCES unit/check_conf.c LIBS ab_core)
ab_unit_test(check_timefmt SOURCES unit/check_timefmt.c LIBS ab_core)
ab_unit_test(check_err SOURCES unit/check_err.c LIBS ab_core)
ab_unit_test(check_mem SOURCES unit/check_mem.c LIBS ab_core)
ab_unit_test(check_str SOURCES unit/check_str.c LIBS ab_core)
ab_unit_test(check_buf SOURCES unit/check_buf.c LIBS ab_core)
ab_unit_test(check_uri SOURCES unit/check_uri.c LIBS ab_core)
ab_unit_test(check_trace SOURCES unit/check_trace.c LIBS ab_core)
ab_unit_test(check_log SOURCES unit/check_log.c LIBS ab_core)
