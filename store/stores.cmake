# The Store implementations (store.h): the sliding-window math, the memory store, the Redis store and its Lua
# script, and the factory the workers use.

# The Lua scripts are embedded from their own files: reconfigure when one changes.
set(GATEHOUSE_LUA_DIR ${CMAKE_CURRENT_LIST_DIR}/lua)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
  ${GATEHOUSE_LUA_DIR}/sliding_log.lua ${GATEHOUSE_LUA_DIR}/lua_scripts.cpp.in)
file(READ ${GATEHOUSE_LUA_DIR}/sliding_log.lua GATEHOUSE_LUA_SLIDING_LOG)
foreach(source GATEHOUSE_LUA_SLIDING_LOG)
  if(${source} MATCHES "\\)gatehouse_lua\"")
    message(FATAL_ERROR "store/lua: a script contains the raw-string delimiter )gatehouse_lua\"")
  endif()
endforeach()
configure_file(${GATEHOUSE_LUA_DIR}/lua_scripts.cpp.in ${CMAKE_CURRENT_BINARY_DIR}/generated/lua_scripts.cpp @ONLY)

add_library(gatehouse_store
  ${CMAKE_CURRENT_LIST_DIR}/store_status.cpp
  ${CMAKE_CURRENT_LIST_DIR}/rate_limit_keys.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sliding_window.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sliding_log.cpp
  ${CMAKE_CURRENT_LIST_DIR}/memory_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/redis_clock.cpp
  ${CMAKE_CURRENT_LIST_DIR}/redis_sliding_window.cpp
  ${CMAKE_CURRENT_LIST_DIR}/redis_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/store_factory.cpp
  ${CMAKE_CURRENT_BINARY_DIR}/generated/lua_scripts.cpp
)
target_include_directories(gatehouse_store PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(gatehouse_store
  PUBLIC gatehouse_redis gatehouse_config gatehouse_options Boost::headers Threads::Threads
  PRIVATE spdlog::spdlog)
