-- tokenbudget: functions shared by every script; RedisScripts puts this file, then
-- common-window.lua, common-pool.lua and common-lease.lua, in front of each one.
-- Key layout (docs/redis.md), all keys of one tree share the hash tag {tree}:
--   <prefix>:{tree}:l            HASH  lease id -> packed lease; '!gen' = the tree's generation,
--                                 '!ex' = the expiry (server ms) last set on this key and :x
--   <prefix>:{tree}:x            ZSET  lease id -> expiry (Redis server time, ms)
--   <prefix>:{tree}:w:<budget>/<window>  HASH  one window: ri ro rt (reserved), i<b> o<b> t<b> (used
--                                 in bucket b; calendar windows use b = 0), for a rolling window hb
--                                 (newest bucket) and ui uo ut (the sum of its buckets, so that a
--                                 decision reads three fields, not sixty buckets), fl (limits the
--                                 fired thresholds refer to), fp (fired percents, ",50,90,"),
--                                 ex (the expiry, server ms, last set on the key); allocation
--                                 (docs/allocation.md, calendar windows only): gi go gt (given to the
--                                 parent's pool), di do dt (draw from it), ci co ct (pool: contributions),
--                                 pi po pt (pool: used), m:<child> ("i,o,t" mirror of a child's used +
--                                 reserved), hn (number of run-time holds), h:<id> ("for|i|o|t|until
--                                 ms"), rb (when the rebalance was claimed)
--   <prefix>:{tree}:g            LIST  the ledger: one JSON entry per change (allocation moves, limits)
--   <prefix>:{tree}:gk           HASH  ledger idempotency key -> seq
-- Every number is an integer below 2^53 (checked by num); numbers handed to redis.call are
-- formatted with %d so that no exponent notation can reach Redis.
-- Costs are counted per call (bench/redis-profile.sh; Redis's Lua runs at roughly 1,000 machine
-- instructions per table built, per tonumber or string.format of a text, 400 per Lua function
-- call): each redis.call and each table or string built here is paid on every decision, which is
-- why reads are one HMGET per window and batch, counters stay numbers inside a batch (parsed once,
-- formatted once when written back), and TTLs are only touched when a window's expiry moves.

local MAX = 9007199254740991
local DIM = {'i', 'o', 't'}
local SLOT_ARGS = 15
local LABEL = {'input', 'output', 'total'}
local call, tonumber, floor, max, min = redis.call, tonumber, math.floor, math.max, math.min

local function fmt(n)
  return string.format('%d', n)
end

-- Texts already parsed in this call, to their numbers: the commands of a batch bring the same
-- limits, caps and counters again and again, and tonumber (strtod, twice over) is the dearest step
-- of reading them. ARGS holds checked arguments (num), STORED what was read from Redis (stored).
local ARGS, STORED = {}, {}

local function num(v, what)
  local n = ARGS[v]
  if n then
    return n
  end
  n = tonumber(v)
  if n == nil or n ~= n or n < -1 or n > MAX or n % 1 ~= 0 then
    error('tokenbudget: ' .. what .. ' must be a whole number in -1..2^53-1, was ' .. tostring(v))
  end
  ARGS[v] = n
  return n
end

-- A counter as stored (text from Redis, or a number the write-back cache holds): 0 when missing.
local function stored(v)
  if not v then
    return 0
  end
  local n = STORED[v]
  if n then
    return n
  end
  n = tonumber(v) or 0
  STORED[v] = n
  return n
end

-- Field names per dimension: built once, not concatenated per use.
local RF, UF, DF, PF, B0 = {'ri', 'ro', 'rt'}, {'ui', 'uo', 'ut'}, {'di', 'do', 'dt'}, {'pi', 'po', 'pt'},
  {'i0', 'o0', 't0'}
local ZERO3 = {0, 0, 0} -- read only

-- Window fields that hold text (fired thresholds); every other field is a counter.
local TEXT = {fl = true, fp = true}

-- A field as read from Redis: a counter as a number (false when missing), a TEXT field as is.
local function field_value(name, v)
  if v and not TEXT[name] then
    return tonumber(v) or 0
  end
  return v
end

-- Window hashes through a write-back cache when `WB` is a table (batch.lua turns it on): a batch
-- of reserves and settles on one tree reads each window once and writes it once at the end
-- (wb_flush_all), instead of an HMGET and an HSET per window per command. Reads see the pending
-- writes, so every command sees the state the commands before it left, as if they had run alone.
-- Off (nil) for single-command scripts, where every call goes straight to Redis.
local WB = nil

local function wb_entry(key)
  local c = WB[key]
  if not c then
    c = {f = {}, dirty = {}, nd = 0}
    WB[key] = c
  end
  return c
end

-- HMGET of a window: false for a missing field, as redis.call returns it. From the cache, a
-- field written in this batch may come back as a number.
local function hmget(key, ...)
  if not WB then
    return call('HMGET', key, ...)
  end
  local f, names, miss = (WB[key] or wb_entry(key)).f, {...}, nil
  for j = 1, #names do
    if f[names[j]] == nil then
      miss = miss or {}
      miss[#miss + 1] = names[j]
    end
  end
  if miss then
    local got = call('HMGET', key, unpack(miss))
    for j = 1, #miss do
      f[miss[j]] = field_value(miss[j], got[j])
    end
  end
  for j = 1, #names do
    names[j] = f[names[j]]
  end
  return names
end

-- Formats the numbers of a flat {field, value, ...} list in place, for Redis.
local function texts(set, from)
  for j = from, #set, 2 do
    if type(set[j]) == 'number' then
      set[j] = fmt(set[j])
    end
  end
  return set
end

-- HSET of a window from a flat {field, value, ...} list; values may be numbers (formatted on the
-- way to Redis, so that a field a batch writes several times is formatted once).
local function hset(key, set)
  if not WB then
    call('HSET', key, unpack(texts(set, 2)))
    return
  end
  local c = WB[key] or wb_entry(key)
  local f, dirty = c.f, c.dirty
  for j = 1, #set, 2 do
    local name = set[j]
    f[name] = set[j + 1]
    dirty[name] = true
  end
  c.nd = 1
end

local function hdel(key, fields)
  if not WB then
    call('HDEL', key, unpack(fields))
    return
  end
  local c = wb_entry(key)
  for j = 1, #fields do
    c.f[fields[j]] = false
    c.dirty[fields[j]] = true
  end
  c.nd = 1
end

local function pexpireat(key, at)
  if not WB then
    call('PEXPIREAT', key, fmt(at))
    return
  end
  local c = wb_entry(key)
  c.at = at
  c.nd = 1
end

-- Writes a window's pending changes to Redis: fields set, fields deleted, then its expiry.
local function wb_flush(key)
  local c = WB and WB[key]
  if not c or c.nd == 0 then
    return
  end
  -- room for 24 entries up front, as apply_lease's list (nil placeholders)
  local set = {nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil,
    nil, nil, nil}
  local del = {}
  for field in pairs(c.dirty) do
    local v = c.f[field]
    if v then
      set[#set + 1] = field
      set[#set + 1] = v
    else
      del[#del + 1] = field
    end
  end
  if #del > 0 then
    call('HDEL', key, unpack(del))
  end
  if #set > 0 then
    call('HSET', key, unpack(texts(set, 2)))
  end
  if c.at then
    call('PEXPIREAT', key, fmt(c.at))
  end
  c.dirty, c.at, c.nd = {}, nil, 0
end

local function wb_flush_all()
  if WB then
    for key in pairs(WB) do
      wb_flush(key)
    end
  end
end

-- Server time: {milliseconds, the reply of TIME} (the reply also names a new tree's generation).
local function server_time()
  local t = call('TIME')
  return tonumber(t[1]) * 1000 + floor(tonumber(t[2]) / 1000), t
end

-- The slack by which a TTL may fall short before it is lengthened: spares a write per call.
local function slack(ttl_ms)
  return min(60000, floor(ttl_ms / 10))
end

-- Decides the expiry of `key` given `ex`, the expiry recorded in it (nil: none recorded, as for a
-- new key or one from an older layout, so ask Redis): lengthens one that falls short of `want`
-- by more than `give`, never shortens. Returns the expiry to set (nil: leave it) and the one to
-- record. Call before the write that may create the key; apply with PEXPIREAT after it.
local function expiry_plan(key, ex, now, want, give)
  if ex then
    ex = tonumber(ex)
    if want > ex + give then
      return want, want
    end
    return nil, ex
  end
  wb_flush(key)
  local left = call('PTTL', key)
  if left < 0 or now + left < want - give then
    return want, want
  end
  return nil, now + left
end
