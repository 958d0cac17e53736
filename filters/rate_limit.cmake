# The rate_limit filter: key building, header formatting, the per-worker over-limit cache and the filter itself.
# store/store.h is only an interface here: the proxy links the store implementations.
add_library(gatehouse_filter_rate_limit
  ${CMAKE_CURRENT_LIST_DIR}/rate_limit_key.cpp
  ${CMAKE_CURRENT_LIST_DIR}/rate_limit_headers.cpp
  ${CMAKE_CURRENT_LIST_DIR}/over_limit_cache.cpp
  ${CMAKE_CURRENT_LIST_DIR}/rate_limit_filter.cpp)
target_include_directories(gatehouse_filter_rate_limit PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(gatehouse_filter_rate_limit
  PUBLIC gatehouse_filter_api gatehouse_config gatehouse_options
  PRIVATE Boost::json OpenSSL::Crypto)
