-- The sliding log for every limit of one rate-limit check, evaluated and logged atomically: exact counting of the
-- requests made in (now - window, now]. The same algorithm as store/sliding_log.cpp, so both stores give the same
-- answers.
--
-- KEYS[i]  the ZSET of limit i: one member per admitted request, "<ms>:<n>", scored by its time in ms. <n> numbers
--          the requests of one millisecond; the members scored `now` are exactly those named "<now>:*", so counting
--          them gives fresh unique names without any key computed in the script (Redis Cluster rule).
-- ARGV[1]  the cost of the request
-- ARGV[2i], ARGV[2i+1]  limit i: requests, window in ms
-- Returns  {allowed (1|0), retry_after_ms, now_ms, remaining_1, reset_after_1, remaining_2, reset_after_2, ...}
--
-- Time is Redis's own (TIME). Requests that left the window are removed on every call; an admitted request sets
-- each ZSET's expiry to the moment its newest member leaves the window.

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local cost = tonumber(ARGV[1])
local kAddBatch = 256  -- members per ZADD: stays far below Lua's limit on unpacked arguments

local function newest(key)
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if #last == 0 then
    return nil
  end
  return tonumber(last[2])
end

local limits = {}
local allowed = true
for i = 1, #KEYS do
  local l = {limit = tonumber(ARGV[2 * i]), window = tonumber(ARGV[2 * i + 1])}
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - l.window)
  l.count = redis.call('ZCARD', KEYS[i])
  l.admits = l.count + cost <= l.limit
  allowed = allowed and l.admits
  limits[i] = l
end

-- Log the request in every limit; two limits with one key share one log and log it once.
if allowed then
  local logged = {}
  for i = 1, #KEYS do
    local key = KEYS[i]
    if not logged[key] then
      logged[key] = true
      local taken = redis.call('ZCOUNT', key, now, now)
      local n = 0
      while n < cost do
        local args = {}
        local batch_end = math.min(cost, n + kAddBatch)
        while n < batch_end do
          n = n + 1
          args[#args + 1] = now
          args[#args + 1] = string.format('%d:%d', now, taken + n)
        end
        redis.call('ZADD', key, unpack(args))
      end
      local last = newest(key)
      if last then  -- nil when nothing is logged: a request of cost 0 on an empty log
        redis.call('PEXPIRE', key, last + limits[i].window - now)
      end
    end
    limits[i].count = redis.call('ZCARD', key)
  end
end

local reply = {allowed and 1 or 0, 0, now}
local admission, never, longest = now, false, 0
for i = 1, #KEYS do
  local l = limits[i]
  local remaining = 0
  if l.admits and l.count < l.limit then
    remaining = l.limit - l.count
  end
  local last = newest(KEYS[i])
  local reset_after = 0
  if last then
    reset_after = math.max(0, last + l.window - now)
  end
  reply[#reply + 1] = remaining
  reply[#reply + 1] = reset_after
  longest = math.max(longest, l.window)
  if not allowed and not l.admits then
    if cost > l.limit then
      never = true
    else
      -- The oldest (count + cost - limit) requests must leave; the last of them leaves at its time + window.
      local nth = redis.call('ZRANGE', KEYS[i], l.count + cost - l.limit - 1, l.count + cost - l.limit - 1,
        'WITHSCORES')
      admission = math.max(admission, tonumber(nth[2]) + l.window)
    end
  end
end
if not allowed then
  reply[2] = never and longest or admission - now
end
return reply
