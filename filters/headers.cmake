# The headers filter: fixed add / set / remove edits on either side of a route. Included by filters/CMakeLists.txt.
# gatehouse_http (proxy/http) supplies the field-name and field-value rules used to validate the config.
add_library(gatehouse_filter_headers
  ${CMAKE_CURRENT_LIST_DIR}/headers_filter.cpp
)
target_include_directories(gatehouse_filter_headers PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(gatehouse_filter_headers PUBLIC gatehouse_filter_api gatehouse_config PRIVATE gatehouse_http)
