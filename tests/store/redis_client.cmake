# Tests of the async Redis client: RESP/backoff unit tests, and integration tests against real redis-servers started
# by the fixture in tests/support. Plus the pipelining benchmark (a program, not a test).
add_executable(redis_client_tests
  ${CMAKE_CURRENT_LIST_DIR}/redis_client_resp_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/inline_function_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/redis_client_pipeline_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/redis_client_failure_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/redis_client_connect_test.cpp
)
target_link_libraries(redis_client_tests PRIVATE gatehouse_options gatehouse_redis gatehouse_test_support PkgConfig::HIREDIS
                                                 GTest::gtest_main GTest::gmock)
gtest_discover_tests(redis_client_tests DISCOVERY_TIMEOUT 30 PROPERTIES TIMEOUT 60 LABELS "redis")

