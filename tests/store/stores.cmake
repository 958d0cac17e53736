# Tests of the Store implementations: the sliding-window math and the memory store on an injected clock, and one
# conformance suite run against both the memory store and a RedisStore on a real redis-server (tests/support).
add_executable(store_tests
  ${CMAKE_CURRENT_LIST_DIR}/sliding_window_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sliding_log_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/memory_store_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/store_conformance_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/redis_store_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/redis_store_lua_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/redis_sliding_window_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/redis_clock_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/store_factory_test.cpp
)
target_link_libraries(store_tests PRIVATE gatehouse_store gatehouse_options gatehouse_test_support Threads::Threads
                                          GTest::gtest_main GTest::gmock)
gtest_discover_tests(store_tests TEST_PREFIX "store." DISCOVERY_TIMEOUT 30 PROPERTIES TIMEOUT 60 LABELS "redis")
