# Unit tests of the rate_limit filter: no sockets, a fake store, a fake clock.
add_executable(rate_limit_filter_tests
  ${CMAKE_CURRENT_LIST_DIR}/rate_limit_key_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/rate_limit_headers_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/rate_limit_over_limit_cache_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sharded_counters_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/rate_limit_filter_test.cpp)
target_link_libraries(rate_limit_filter_tests
  PRIVATE gatehouse_filter_rate_limit gatehouse_options Boost::json Threads::Threads GTest::gtest_main GTest::gmock)
gtest_discover_tests(rate_limit_filter_tests TEST_PREFIX "rate_limit." DISCOVERY_TIMEOUT 30)
