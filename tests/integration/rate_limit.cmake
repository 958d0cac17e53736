# Rate limiting end to end: real HTTP through Gatehouse (in process, or three real binaries sharing one Redis)
# against a real redis-server on a loopback port.
add_executable(rate_limit_integration_tests
  rate_limit_admission_test.cpp
  rate_limit_store_failure_test.cpp
  rate_limit_redis_state_test.cpp
  rate_limit_multi_instance_test.cpp
  rate_limit_startup_test.cpp
)
target_link_libraries(rate_limit_integration_tests
  PRIVATE gatehouse_options gatehouse_integration_harness gatehouse_test_support GTest::gtest_main
)
gtest_discover_tests(rate_limit_integration_tests DISCOVERY_TIMEOUT 30 PROPERTIES TIMEOUT 180)
