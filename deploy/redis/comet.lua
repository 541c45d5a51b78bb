#!lua name=comet_v1
--
-- comet-gateway durable channels: a Redis 7 function library.
--
-- comet-gateway loads it at start (FUNCTION LOAD, on its command connection)
-- when it is missing; clients/php/Comet.php carries the same text and loads
-- it too when FCALL says the function is missing (a Redis restarted without
-- persistence). To load it by hand:
--
--     redis-cli -x FUNCTION LOAD < deploy/redis/comet.lua
--
-- The library name carries a version: a changed library gets a new name
-- (comet_v2 ...), so that gateways of different versions can share a Redis
-- and "load if missing" never has to replace anything.
--
-- Keys: channel NAME keeps its history in the stream "<prefix>{NAME}:stream"
-- (the hash tag puts all of one channel's keys in one cluster slot; '{' and
-- '}' cannot occur in a channel name, so the tag is always the whole name).
-- Each entry has two fields:
--   d  the payload, byte for byte
--   p  the id of the entry before it in this stream, or "*" for the first
--      entry of a stream that did not exist (new, expired or lost): the
--      reader tells from it, exactly, whether entries after a position were
--      trimmed (MAXLEN) or lost with the key, which Redis 7.0 itself does
--      not record for trimming (max-deleted-entry-id stays 0-0).

-- "ms-seq" compared as numbers (Lua numbers hold ms exactly; seq too, far
-- beyond anything one millisecond produces).
local function id_less(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  if am ~= bm then return am < bm end
  return as < bs
end

-- FCALL comet_publish_v1 1 <stream key> <channel> <notice channel> <payload> <maxlen> <ttl seconds>
--
-- Appends the payload to the stream (trimmed to about maxlen entries, the
-- key expiring ttl seconds after the last publish; 0 = no expiry), then
-- PUBLISHes the entry id on the notice channel "<prefix>#durable:NAME" and
-- the raw payload on "<prefix>NAME". One function runs atomically, so every
-- subscriber receives the two messages back to back: the gateway pairs
-- them, and plain subscribers of <prefix>NAME see the payload as from a
-- plain PUBLISH. Returns the entry id, which is also the message id.
local function publish(keys, args)
  local key = keys[1]
  local maxlen = tonumber(args[4])
  local ttl = tonumber(args[5])
  local last = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
  local prev = '*'
  if #last > 0 then prev = last[1][1] end
  local id
  if maxlen ~= nil and maxlen > 0 then
    id = redis.call('XADD', key, 'MAXLEN', '~', maxlen, '*', 'd', args[3], 'p', prev)
  else
    id = redis.call('XADD', key, '*', 'd', args[3], 'p', prev)
  end
  if ttl ~= nil and ttl > 0 then redis.call('EXPIRE', key, ttl) end
  redis.call('PUBLISH', args[2], id)
  redis.call('PUBLISH', args[1], args[3])
  return id
end

-- FCALL_RO comet_read_v1 1 <stream key> <after id> <count>
--
-- The entries after <after id> (exclusive), at most <count>, and whether
-- any entry after <after id> is gone. Reply:
--   { status, base, id1, payload1, id2, payload2, ... }
-- status "ok":   the entries are exactly the stream after <after id>.
-- status "gap":  entries after <after id> were trimmed or lost; the entries
--                returned are exactly the stream after <base>.
-- status "none": no such stream (never published durably, expired, or lost).
local function read(keys, args)
  local key = keys[1]
  local after = args[1]
  if redis.call('EXISTS', key) == 0 then return {'none', after} end
  local entries = redis.call('XRANGE', key, '(' .. after, '+', 'COUNT', tonumber(args[2]))
  local out = {'ok', after}
  for i, e in ipairs(entries) do
    local fields = e[2]
    local d, p = '', '*'
    for j = 1, #fields, 2 do
      if fields[j] == 'd' then d = fields[j + 1] elseif fields[j] == 'p' then p = fields[j + 1] end
    end
    if i == 1 and after ~= '0-0' and (p == '*' or id_less(after, p)) then
      -- The entry before the first one returned is not <after id>: what lay
      -- between is gone. "*": the stream began again after <after id>.
      -- (After "0-0" nothing can be missing: that reader had nothing.)
      out[1] = 'gap'
      out[2] = p
    end
    out[#out + 1] = e[1]
    out[#out + 1] = d
  end
  return out
end

redis.register_function('comet_publish_v1', publish)
redis.register_function{function_name = 'comet_read_v1', callback = read, flags = {'no-writes'}}
