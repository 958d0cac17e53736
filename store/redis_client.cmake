# The asynchronous Redis client (redis_client.h): Asio sockets (TCP, unix, TLS), hiredis for RESP.
add_library(gatehouse_redis
  ${CMAKE_CURRENT_LIST_DIR}/redis_backoff.cpp
  ${CMAKE_CURRENT_LIST_DIR}/redis_client.cpp
  ${CMAKE_CURRENT_LIST_DIR}/redis_connection.cpp
  ${CMAKE_CURRENT_LIST_DIR}/redis_resp.cpp
  ${CMAKE_CURRENT_LIST_DIR}/redis_stream.cpp
  ${CMAKE_CURRENT_LIST_DIR}/redis_tls.cpp
)
target_include_directories(gatehouse_redis PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(gatehouse_redis
  PUBLIC gatehouse_options gatehouse_config Boost::headers OpenSSL::SSL OpenSSL::Crypto Threads::Threads
  PRIVATE PkgConfig::HIREDIS spdlog::spdlog
)
