// The Lua script RedisStore evaluates for the sliding-log algorithm (the sliding window needs none:
// store/redis_sliding_window.h). Its source lives in store/lua/sliding_log.lua and is embedded into the
// library at build time (store/stores.cmake), so that it is read and reviewed as Lua, not as a C++ literal.
#pragma once

#include "store/redis_client.h"

namespace gatehouse::store::lua {

const LuaScript& slidingLog();  // store/lua/sliding_log.lua

}  // namespace gatehouse::store::lua
