# The headers filter's unit tests. Included by tests/filters/CMakeLists.txt.
if(NOT TARGET gatehouse_http)
  add_subdirectory(${PROJECT_SOURCE_DIR}/proxy/http ${CMAKE_BINARY_DIR}/proxy_http)
endif()

add_executable(headers_filter_tests ${CMAKE_CURRENT_LIST_DIR}/headers_filter_test.cpp)
target_link_libraries(headers_filter_tests PRIVATE gatehouse_options gatehouse_filter_headers GTest::gtest_main)
gtest_discover_tests(headers_filter_tests)
