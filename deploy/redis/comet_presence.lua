#!lua name=comet_presence_v1
--
-- comet-gateway presence channels: a Redis 7 function library, loaded by the
-- gateway beside comet_v1 (a library of its own, so that neither ever has to
-- replace the other). To load it by hand:
--
--     redis-cli -x FUNCTION LOAD < deploy/redis/comet_presence.lua
--
-- Keys of presence channel NAME (one hash tag, so one cluster slot):
--   <prefix>{NAME}:presence       ZSET user -> expiry (ms since the epoch)
--   <prefix>{NAME}:presence:info  HASH user -> info (a JSON object's text)
--   <prefix>{NAME}:presence:gone  ZSET user -> when member_removed is due
--   <prefix>{NAME}:presence:v     the version: every join and leave takes
--                                 the next one
-- A user is a member from the refresh that adds it until the sweep that
-- finds its expiry passed: each gateway refreshes the users it holds (for
-- a grace while they have a request there, until a grace after their last
-- request ended), and any gateway may sweep. A function runs atomically, so
-- each join and each leave happens once, whichever gateways race. Times are
-- Redis's own clock (TIME): the gateways pass durations, so their clocks
-- need not agree.
--
-- Each join and leave is PUBLISHed on "<prefix>#presence:NAME", in the
-- pub/sub stream every gateway hears, as
--   <version>:j:<user length>:<user><info>    or    <version>:l:<user length>:<user>
-- The webhook events (channel_occupied, member_added, member_removed,
-- channel_vacated) are returned to the one caller that caused them; a
-- user that leaves and comes back within the delay causes none.

-- The next version. A lost key starts again above every version it
-- handed out (from the clock), so that versions only grow.
-- Redis's clock, in ms.
local function clock()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function next_version(key, now)
  local v = redis.call('INCR', key)
  if v == 1 then
    v = now * 1000
    redis.call('SET', key, string.format('%d', v))
  end
  return string.format('%d', v)
end

local function keep(keys, until_ms, now)
  local ttl = string.format('%d', math.floor(until_ms - now) + 60000)
  for i = 1, 4 do redis.call('PEXPIRE', keys[i], ttl) end
end

-- In how many ms a sweep has something to do (0: now), or -1 (never).
local function next_due(keys, now)
  local due = -1
  for _, k in ipairs({keys[1], keys[3]}) do
    local first = redis.call('ZRANGE', k, 0, 0, 'WITHSCORES')
    if #first > 0 then
      local t = tonumber(first[2])
      if due < 0 or t < due then due = t end
    end
  end
  if due < 0 then return -1 end
  if due < now then return 0 end
  return math.floor(due - now)
end

-- FCALL comet_presence_refresh_v1 4 <zset> <info> <gone> <version>
--       <event channel> <delay ms> <quiet> {<user> <ms> <info>}...
--
-- Makes each user a member for at least <ms> more. A user not a member
-- yet joins: its info is stored and its join published. Returns
-- { ms until a sweep is due, webhook event name, user, ... } ("" for the
-- user of a channel event). <quiet> "1": the caller held these users before Redis
-- lost them (a restart): their joins are published (every gateway's list
-- must have them) but cause no webhook event.
local function refresh(keys, args)
  local zset, info, gone = keys[1], keys[2], keys[3]
  local channel, delay = args[1], tonumber(args[2])
  local quiet = args[3] == '1'
  local now = clock()
  local was_empty = redis.call('ZCARD', zset) == 0 and redis.call('ZCARD', gone) == 0
  local out = {0}
  local latest = now
  -- In slices of 1,000 users, two calls each (ZMSCORE tells who is new,
  -- one ZADD GT raises every expiry), so that the cost per member is the
  -- work Redis does for it, not a call: unpack() of more than a few
  -- thousand values would overflow Lua's stack anyway.
  for first = 4, #args, 3000 do
    local users, scores = {}, {}
    for i = first, math.min(first + 2999, #args), 3 do
      local expiry = now + tonumber(args[i + 1])
      if expiry > latest then latest = expiry end
      users[#users + 1] = args[i]
      scores[#scores + 1] = string.format('%d', expiry)
      scores[#scores + 1] = args[i]
    end
    local old = redis.call('ZMSCORE', zset, unpack(users))
    redis.call('ZADD', zset, 'GT', unpack(scores))
    for j, user in ipairs(users) do
      if not old[j] then
        local data = args[first + 3 * (j - 1) + 2]
        redis.call('HSET', info, user, data)
        local back = redis.call('ZREM', gone, user) == 1
        local v = next_version(keys[4], now)
        redis.call('PUBLISH', channel, v .. ':j:' .. #user .. ':' .. user .. data)
        if not back and not quiet then
          out[#out + 1] = 'member_added'
          out[#out + 1] = user
        end
      end
    end
  end
  if was_empty and not quiet and #out > 1 then
    table.insert(out, 2, '')
    table.insert(out, 2, 'channel_occupied')
  end
  keep(keys, latest + delay, now)
  out[1] = next_due(keys, now)
  return out
end

-- FCALL comet_presence_sweep_v1 4 <zset> <info> <gone> <version>
--       <event channel> <delay ms>
--
-- Users whose expiry has passed leave (published); those gone for <delay>
-- without coming back are returned as member_removed, and the channel as
-- channel_vacated when nobody is left. Same reply as refresh. At most 1,000
-- of each per call: the reply's due time is then 0, to call again.
local function sweep(keys, args)
  local zset, info, gone = keys[1], keys[2], keys[3]
  local channel, delay = args[1], tonumber(args[2])
  local now = clock()
  local out = {0}
  local expired = redis.call('ZRANGEBYSCORE', zset, '-inf', string.format('%d', now), 'LIMIT', 0, 1000)
  for _, user in ipairs(expired) do
    redis.call('ZREM', zset, user)
    redis.call('HDEL', info, user)
    redis.call('ZADD', gone, string.format('%d', now + delay), user)
    local v = next_version(keys[4], now)
    redis.call('PUBLISH', channel, v .. ':l:' .. #user .. ':' .. user)
  end
  local due = redis.call('ZRANGEBYSCORE', gone, '-inf', string.format('%d', now), 'LIMIT', 0, 1000)
  for _, user in ipairs(due) do
    redis.call('ZREM', gone, user)
    out[#out + 1] = 'member_removed'
    out[#out + 1] = user
  end
  if #due > 0 and redis.call('ZCARD', zset) == 0 and redis.call('ZCARD', gone) == 0 then
    out[#out + 1] = 'channel_vacated'
    out[#out + 1] = ''
  end
  out[1] = next_due(keys, now)
  if #expired == 1000 or #due == 1000 then out[1] = 0 end
  return out
end

-- FCALL_RO comet_presence_members_v1 4 <zset> <info> <gone> <version>
--
-- { version, user, info, user, info, ... }: the members now, and the
-- version of the last join or leave they include (0: none yet).
local function members(keys, args)
  local out = {redis.call('GET', keys[4]) or '0'}
  local users = redis.call('ZRANGE', keys[1], 0, -1)
  -- HMGET in slices: unpack() of more than a few thousand overflows Lua's stack.
  for first = 1, #users, 1000 do
    local slice = {}
    for i = first, math.min(first + 999, #users) do slice[#slice + 1] = users[i] end
    local infos = redis.call('HMGET', keys[2], unpack(slice))
    for i, user in ipairs(slice) do
      out[#out + 1] = user
      out[#out + 1] = infos[i] or ''
    end
  end
  return out
end

redis.register_function('comet_presence_refresh_v1', refresh)
redis.register_function('comet_presence_sweep_v1', sweep)
redis.register_function{function_name = 'comet_presence_members_v1', callback = members,
                        flags = {'no-writes'}}
