-- The sliding-window counter for every limit of one rate-limit check, evaluated and counted atomically.
-- The same algorithm, step for step, as store/sliding_window.cpp (read its header for the model and the worst case):
-- counts are compared scaled by the window, in integers, so both stores give identical answers.
--
-- KEYS[i]  the counter of limit i: a HASH with one field, v = struct.pack('<ddd', w, c, p): w = window index
--          (now_ms // window_ms), c = count in window w, p = count in window w - 1, as little-endian doubles
--          (exact integers below 2^53). Packed, it costs one HGET and one HSET to read and write, and no
--          formatting or parsing (decimal text would cost a third more of the script's own work). A HASH, not a
--          STRING, so that a session GET of a rate-limit key fails as in the memory store. To read one:
--          EVAL "return {struct.unpack('<ddd', redis.call('HGET', KEYS[1], 'v'))}" 1 <key>
--          Its expiry, (w + 2) * window_ms, is when its counts stop mattering. Every key shares the check's
--          hash tag, so the script runs on one Redis Cluster slot. There is at least one limit.
-- ARGV[1]  the cost of the request
-- ARGV[2i], ARGV[2i+1]  limit i: requests, window in ms
-- Returns  {allowed (1|0), retry_after_ms, now_ms, remaining_1, reset_after_1, remaining_2, reset_after_2, ...}
--
-- Time is Redis's own (TIME), so that Gatehouse instances with skewed clocks agree. A rejected request writes
-- nothing; an admitted one rewrites v, and sets the expiry when the counter enters a new window (writes within
-- a window keep it, as it does not change). So a check is TIME, then an HGET and an HSET per limit, plus a
-- PEXPIRE once per window. The script is the Redis CPU of every rate-limited request, so it also keeps its own
-- Lua work small: no tables but the reply and one flat array, no closures but idiv.

local floor = math.floor

-- floor(a / b) for integers a >= 0, b > 0: the double division may round up across an integer, so correct it.
local function idiv(a, b)
  local q = floor(a / b)
  if q * b > a then
    q = q - 1
  elseif (q + 1) * b <= a then
    q = q + 1
  end
  return q
end

local time = redis.call('TIME')
local now = time[1] * 1000 + floor(time[2] / 1000)
-- ARGV holds numeric strings: arithmetic converts them, which costs less than a call to tonumber.
local cost = ARGV[1] + 0
local limits = #KEYS

-- The counts of every limit, rolled to the window that contains now, kept seven to a limit in one flat array:
-- state[7i-6..7i] = limit i's requests, window, window index, current, previous, whether it admits the cost,
-- whether its stored counter is of this window already (and so has the right expiry).
local state = {false, false, false, false, false, false, false}  -- sized for the common single limit
local allowed = true
for i = 1, limits do
  local limit, window = ARGV[2 * i] + 0, ARGV[2 * i + 1] + 0
  local index = idiv(now, window)
  local stored = redis.call('HGET', KEYS[i], 'v')
  local w, c, p
  if stored and #stored == 24 then
    w, c, p = struct.unpack('<ddd', stored)
  end
  local current, previous = 0, 0
  if w == index then
    current, previous = c, p
  elseif w == index - 1 then
    previous = c
  end
  local admits = previous * (window - (now - index * window)) + (current + cost) * window <= limit * window
  allowed = allowed and admits
  local s = 7 * i
  state[s - 6], state[s - 5], state[s - 4], state[s - 3], state[s - 2], state[s - 1], state[s] =
    limit, window, index, current, previous, admits, w == index
end

local reply = {allowed and 1 or 0, 0, now, 0, 0}
local admission, never, longest = now, false, 0
for i = 1, limits do
  local s = 7 * i
  local limit, window, index = state[s - 6], state[s - 5], state[s - 4]
  local current, previous = state[s - 3], state[s - 2]
  local start = index * window

  -- Count the request; two limits with one key share one counter and count it once.
  if allowed then
    local first = i
    for j = 1, i - 1 do
      if KEYS[j] == KEYS[i] then
        first = j
        break
      end
    end
    if first == i then
      current = current + cost
      redis.call('HSET', KEYS[i], 'v', struct.pack('<ddd', index, current, previous))
      if not state[s] then
        redis.call('PEXPIRE', KEYS[i], start + 2 * window - now)
      end
    else
      current = state[7 * first - 3]
    end
    state[s - 3] = current
  end

  local remaining = 0
  if state[s - 1] then
    local used = previous * (window - (now - start)) + current * window
    if used < limit * window then
      remaining = idiv(limit * window - used, window)
    end
  end
  local reset_after = 0
  if current > 0 then
    reset_after = start + 2 * window - now
  elseif previous > 0 then
    reset_after = start + window - now
  end
  reply[2 * i + 2] = remaining
  reply[2 * i + 3] = reset_after
  if window > longest then
    longest = window
  end

  -- The earliest time >= now at which this limit admits the cost; never when cost > limit.
  if not allowed then
    if cost > limit then
      never = true
    elseif current + cost <= limit then
      if previous > 0 then
        local max_weight = idiv((limit - current - cost) * window, previous)
        if max_weight < window and start + window - max_weight > admission then
          admission = start + window - max_weight
        end
      end
    else
      local next_start = start + window
      local max_weight = idiv((limit - cost) * window, current)
      local at = next_start
      if max_weight < window then
        at = next_start + window - max_weight
      end
      if at > admission then
        admission = at
      end
    end
  end
end
if not allowed then
  reply[2] = never and longest or admission - now
end
return reply
