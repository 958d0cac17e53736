// The Lua scripts RedisStore evaluates, one per rate-limit algorithm. Their sources live in store/lua/*.lua
// and are embedded into the library at build time (store/stores.cmake), so they are read and reviewed as Lua,
// not as C++ string literals.
#pragma once

#include "store/redis_client.h"

namespace gatehouse::store::lua {

const LuaScript& slidingWindow();  // store/lua/sliding_window.lua
const LuaScript& slidingLog();     // store/lua/sliding_log.lua

}  // namespace gatehouse::store::lua
