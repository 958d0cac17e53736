# The session filter: express-session / plain session cookies checked against the store (store/store.h is used as
# an interface only; the proxy links the store implementation).
add_library(gatehouse_filter_session
  ${CMAKE_CURRENT_LIST_DIR}/cookie.cpp
  ${CMAKE_CURRENT_LIST_DIR}/express_signature.cpp
  ${CMAKE_CURRENT_LIST_DIR}/identity_headers.cpp
  ${CMAKE_CURRENT_LIST_DIR}/json_pointer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/session_identity.cpp
  ${CMAKE_CURRENT_LIST_DIR}/session_filter.cpp
)
target_include_directories(gatehouse_filter_session PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(gatehouse_filter_session
  PUBLIC gatehouse_filter_api gatehouse_config gatehouse_options Boost::json
  PRIVATE OpenSSL::Crypto)
