# The deployment checks (label deploy): Kubernetes manifests, the container
# files, the systemd units and the .deb. They need the venv of
# scripts/sdk-venv.sh and the tools of scripts/deploy-tools.sh; the .deb
# check installs the package on this machine, so it runs as root, alone.
if(DEFINED ENV{AB_SDK_VENV})
  set(AB_DEPLOY_VENV $ENV{AB_SDK_VENV}/bin/python)
else()
  set(AB_DEPLOY_VENV ${CMAKE_SOURCE_DIR}/.cache/sdk-venv/bin/python)
endif()
get_filename_component(AB_DEPLOY_VENV_BIN ${AB_DEPLOY_VENV} DIRECTORY)
if(DEFINED ENV{AB_DEPLOY_TOOLS})
  set(AB_DEPLOY_TOOLS $ENV{AB_DEPLOY_TOOLS})
else()
  set(AB_DEPLOY_TOOLS ${CMAKE_SOURCE_DIR}/.cache/deploy-tools)
endif()

add_test(NAME deploy_kubernetes
  COMMAND ${AB_DEPLOY_VENV} ${CMAKE_CURRENT_LIST_DIR}/check_kubernetes.py
          --alertbridge $<TARGET_FILE:alertbridge> --tools ${AB_DEPLOY_TOOLS})
set_tests_properties(deploy_kubernetes PROPERTIES LABELS deploy TIMEOUT 120)

add_test(NAME deploy_container
  COMMAND ${AB_DEPLOY_VENV} ${CMAKE_CURRENT_LIST_DIR}/check_container.py
          --alertbridge $<TARGET_FILE:alertbridge> --tools ${AB_DEPLOY_TOOLS}
          --hadolint ${AB_DEPLOY_VENV_BIN}/hadolint)
set_tests_properties(deploy_container PROPERTIES LABELS deploy TIMEOUT 120)

add_test(NAME deploy_deb
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/check_deb.sh ${CMAKE_BINARY_DIR})
set_tests_properties(deploy_deb PROPERTIES LABELS deploy TIMEOUT 300
  RUN_SERIAL TRUE)
