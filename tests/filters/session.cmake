# Unit tests of the session filter and its pure parts (cookies, signatures, JSON pointers, identity headers): no
# sockets, a fake store, a fake clock. Included by tests/filters/CMakeLists.txt.
add_executable(session_filter_tests
  ${CMAKE_CURRENT_LIST_DIR}/session_cookie_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/session_signature_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/session_json_pointer_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/session_identity_headers_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/session_filter_test.cpp)
target_link_libraries(session_filter_tests
  PRIVATE gatehouse_filter_session gatehouse_options Boost::json GTest::gtest_main GTest::gmock)
gtest_discover_tests(session_filter_tests TEST_PREFIX "session." DISCOVERY_TIMEOUT 30)
