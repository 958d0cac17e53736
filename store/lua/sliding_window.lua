-- The sliding-window counter for every limit of one rate-limit check, evaluated and counted atomically.
-- The same algorithm, step for step, as store/sliding_window.cpp (read its header for the model and the worst case):
-- counts are compared scaled by the window, in integers, so both stores give identical answers.
--
-- KEYS[i]  the HASH of limit i: w = window index, c = count in window w, p = count in window w - 1.
--          Every key shares the check's hash tag, so the script runs on one Redis Cluster slot.
-- ARGV[1]  the cost of the request
-- ARGV[2i], ARGV[2i+1]  limit i: requests, window in ms
-- Returns  {allowed (1|0), retry_after_ms, now_ms, remaining_1, reset_after_1, remaining_2, reset_after_2, ...}
--
-- Time is Redis's own (TIME), so that Gatehouse instances with skewed clocks agree. A rejected request writes
-- nothing; an admitted one rewrites each HASH and sets its expiry to the moment its counts stop mattering.

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local cost = tonumber(ARGV[1])

-- floor(a / b) for integers a >= 0, b > 0: the double division may round up across an integer, so correct it.
local function idiv(a, b)
  local q = math.floor(a / b)
  if q * b > a then
    q = q - 1
  elseif (q + 1) * b <= a then
    q = q + 1
  end
  return q
end

-- The counts of every limit, rolled to the window that contains now.
local limits = {}
local allowed = true
for i = 1, #KEYS do
  local l = {limit = tonumber(ARGV[2 * i]), window = tonumber(ARGV[2 * i + 1])}
  l.index = idiv(now, l.window)
  l.start = l.index * l.window
  local stored = redis.call('HMGET', KEYS[i], 'w', 'c', 'p')
  local w, c, p = tonumber(stored[1]), tonumber(stored[2]) or 0, tonumber(stored[3]) or 0
  if w == l.index then
    l.current, l.previous = c, p
  elseif w == l.index - 1 then
    l.current, l.previous = 0, c
  else
    l.current, l.previous = 0, 0
  end
  l.admits = l.previous * (l.window - (now - l.start)) + (l.current + cost) * l.window <= l.limit * l.window
  allowed = allowed and l.admits
  limits[i] = l
end

-- Count the request in every limit; two limits with one key share one counter and count it once.
if allowed then
  local counted = {}
  for i = 1, #KEYS do
    local l = limits[i]
    if counted[KEYS[i]] then
      l.current = counted[KEYS[i]].current
    else
      l.current = l.current + cost
      counted[KEYS[i]] = l
      redis.call('HSET', KEYS[i], 'w', string.format('%d', l.index), 'c', string.format('%d', l.current),
        'p', string.format('%d', l.previous))
      redis.call('PEXPIRE', KEYS[i], l.start + 2 * l.window - now)
    end
  end
end

-- The earliest time >= now at which this limit admits the cost; nil when never (cost > limit).
local function admission_time(l)
  if cost > l.limit then
    return nil
  end
  if l.current + cost <= l.limit then
    if l.previous == 0 then
      return now
    end
    local max_weight = idiv((l.limit - l.current - cost) * l.window, l.previous)
    if max_weight >= l.window then
      return now
    end
    return math.max(now, l.start + l.window - max_weight)
  end
  local next_start = l.start + l.window
  local max_weight = idiv((l.limit - cost) * l.window, l.current)
  if max_weight >= l.window then
    return next_start
  end
  return next_start + l.window - max_weight
end

local reply = {allowed and 1 or 0, 0, now}
local admission, never, longest = now, false, 0
for i = 1, #KEYS do
  local l = limits[i]
  local remaining = 0
  if l.admits then
    local used = l.previous * (l.window - (now - l.start)) + l.current * l.window
    if used < l.limit * l.window then
      remaining = idiv(l.limit * l.window - used, l.window)
    end
  end
  local reset_after = 0
  if l.current > 0 then
    reset_after = l.start + 2 * l.window - now
  elseif l.previous > 0 then
    reset_after = l.start + l.window - now
  end
  reply[#reply + 1] = remaining
  reply[#reply + 1] = reset_after
  longest = math.max(longest, l.window)
  if not allowed then
    local at = admission_time(l)
    if at then
      admission = math.max(admission, at)
    else
      never = true
    end
  end
end
if not allowed then
  reply[2] = never and longest or admission - now
end
return reply
