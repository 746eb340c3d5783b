# The stateful pipeline of issue 12 (docs/stateful-pipeline.md) against a
# real broker (label integration): test_stateful.py runs groups of real
# `alertbridge run` members over unkeyed Alertmanager alerts on 6
# partitions, kills and restarts them, and checks that every alert is
# opened and closed exactly once and every claim is accepted. One ctest
# entry per scenario and guarantee. It reuses test_pipeline.py's helpers.
# AB_STATEFUL_ALERTS sets the alerts per scenario (default 400).

find_program(AB_PYTHON3 NAMES python3 HINTS /usr/bin)
if(NOT AB_PYTHON3)
  set(AB_PYTHON3 python3)
endif()

set(AB_STATEFUL_IT_WORKDIR ${CMAKE_CURRENT_BINARY_DIR}/integration/stateful)

# ctest name -> test in test_stateful.py
set(AB_STATEFUL_IT_CASES
  stateful_three_members:ThreeMembers.test_at_least_once
  stateful_three_members_eos:ThreeMembers.test_exactly_once
  stateful_unbatched:Unbatched.test_at_least_once
  stateful_kill_member:KillMember.test_at_least_once
  stateful_kill_member_eos:KillMember.test_exactly_once
  stateful_rolling_restart:RollingRestart.test_at_least_once
  stateful_rolling_restart_eos:RollingRestart.test_exactly_once
  stateful_single_restart:SingleRestart.test_at_least_once
  stateful_single_restart_eos:SingleRestart.test_exactly_once
  stateful_changelog_v1:ChangelogVersion1.test_at_least_once
  stateful_autoclear_moved:AutoClearMoved.test_fires_once_on_the_new_owner)

foreach(case ${AB_STATEFUL_IT_CASES})
  string(REPLACE ":" ";" parts ${case})
  list(GET parts 0 name)
  list(GET parts 1 test)
  ab_integration_test(${name}
    COMMAND ${AB_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/test_stateful.py
      --alertbridge $<TARGET_FILE:alertbridge>
      --workdir ${AB_STATEFUL_IT_WORKDIR}
      ${test})
  # Several processes each and waits of up to AB_IT_TIMEOUT: serial, and
  # well within 5 minutes when the pipeline is right.
  set_tests_properties(${name} PROPERTIES TIMEOUT 300)
endforeach()
