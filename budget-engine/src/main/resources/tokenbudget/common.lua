-- tokenbudget: functions shared by every script; RedisScripts prepends this file to each one.
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
-- Costs are counted per call (bench/redis-profile.sh): each redis.call and each table or string
-- built here is paid on every decision, which is why reads are one HMGET per window and TTLs
-- are only touched when a window's expiry moves.

local MAX = 9007199254740991
local DIM = {'i', 'o', 't'}
local SLOT_ARGS = 15
local LABEL = {'input', 'output', 'total'}
local call, tonumber, floor, max, min = redis.call, tonumber, math.floor, math.max, math.min

local function fmt(n)
  return string.format('%d', n)
end

local function num(v, what)
  local n = tonumber(v)
  if n == nil or n ~= n or n < -1 or n > MAX or n ~= floor(n) then
    error('tokenbudget: ' .. what .. ' must be a whole number in -1..2^53-1, was ' .. tostring(v))
  end
  return n
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

-- HMGET of a window: false for a missing field, as redis.call returns it.
local function hmget(key, ...)
  if not WB then
    return call('HMGET', key, ...)
  end
  local c, names, miss = wb_entry(key), {...}, {}
  local f = c.f
  for j = 1, #names do
    if f[names[j]] == nil then
      miss[#miss + 1] = names[j]
    end
  end
  if #miss > 0 then
    local got = call('HMGET', key, unpack(miss))
    for j = 1, #miss do
      f[miss[j]] = got[j]
    end
  end
  local out = {}
  for j = 1, #names do
    out[j] = f[names[j]]
  end
  return out
end

-- HSET of a window from a flat {field, value, ...} list.
local function hset(key, set)
  if not WB then
    call('HSET', key, unpack(set))
    return
  end
  local c = wb_entry(key)
  for j = 1, #set, 2 do
    c.f[set[j]] = set[j + 1]
    c.dirty[set[j]] = true
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
  local set, del = {}, {}
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
    call('HSET', key, unpack(set))
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

-- Adds to `vals` the rolling-window bucket fields from..to (all three dimensions), in order.
local function bucket_fields(vals, from, to)
  for b = from, to do
    local s = fmt(b)
    vals[#vals + 1] = 'i' .. s
    vals[#vals + 1] = 'o' .. s
    vals[#vals + 1] = 't' .. s
  end
end

-- Rolling window stored before the running sums existed: sum its buckets once.
local function legacy_sums(key)
  local tot = {0, 0, 0}
  wb_flush(key)
  local all = call('HGETALL', key)
  for j = 1, #all, 2 do
    local f = all[j]
    for d = 1, 3 do
      if string.sub(f, 1, 1) == DIM[d] and tonumber(string.sub(f, 2)) then
        tot[d] = tot[d] + tonumber(all[j + 1])
      end
    end
  end
  return tot
end

-- One window as the scripts see it: used (summed over buckets bucket-count+1 .. bucket, as the
-- caller's clock sees the window) and reserved per dimension, the fired-threshold state fl/fp and
-- the recorded expiry ex. For a rolling window also: hb (the newest bucket), tot (the stored sum
-- of buckets hb-count+1 .. hb), and, when `with_bucket`, cur (the caller's bucket) and gone (the
-- buckets that roll off if hb advances to `bucket`). A rolling window reads one HMGET; only a
-- caller in another bucket than hb reads the few buckets in between.
local function window_state(key, bucket, count, with_bucket)
  if count <= 1 then
    local v = hmget(key, 'i0', 'o0', 't0', 'ri', 'ro', 'rt', 'fl', 'fp', 'ex', 'hn')
    return {u = {tonumber(v[1]) or 0, tonumber(v[2]) or 0, tonumber(v[3]) or 0},
      r = {tonumber(v[4]) or 0, tonumber(v[5]) or 0, tonumber(v[6]) or 0}, fl = v[7], fp = v[8], ex = v[9],
      hn = tonumber(v[10]) or 0}
  end
  local v
  if with_bucket then
    local b = fmt(bucket)
    v = hmget(key, 'ui', 'uo', 'ut', 'ri', 'ro', 'rt', 'fl', 'fp', 'ex', 'hb', 'i' .. b, 'o' .. b, 't' .. b)
  else
    v = hmget(key, 'ui', 'uo', 'ut', 'ri', 'ro', 'rt', 'fl', 'fp', 'ex', 'hb')
  end
  local st = {r = {tonumber(v[4]) or 0, tonumber(v[5]) or 0, tonumber(v[6]) or 0}, fl = v[7], fp = v[8], ex = v[9],
    hb = tonumber(v[10]), cur = {tonumber(v[11]) or 0, tonumber(v[12]) or 0, tonumber(v[13]) or 0}}
  if not st.hb then
    st.tot, st.u, st.gone = {0, 0, 0}, {0, 0, 0}, {}
    return st
  end
  if v[3] then
    st.tot = {tonumber(v[1]), tonumber(v[2]), tonumber(v[3])}
  else
    st.tot = legacy_sums(key)
  end
  -- live buckets are hb-count+1 .. hb; the caller counts bucket-count+1 .. bucket
  local hb = st.hb
  st.u = {st.tot[1], st.tot[2], st.tot[3]}
  st.gone = {}
  if bucket >= hb + count then
    -- every live bucket rolls off
    st.u = {0, 0, 0}
    bucket_fields(st.gone, hb - count + 1, hb)
  elseif bucket <= hb - count then
    -- the caller's clock is a whole window behind: none of the live buckets is in its window
    st.u = {0, 0, 0}
  elseif bucket ~= hb then
    local from, to
    if bucket > hb then
      from, to = hb - count + 1, bucket - count
    else
      from, to = bucket + 1, hb
    end
    local fields = {}
    bucket_fields(fields, from, to)
    local got = hmget(key, unpack(fields))
    for j = 1, #fields do
      local x = tonumber(got[j])
      if x then
        local d = (j - 1) % 3 + 1
        st.u[d] = max(0, st.u[d] - x)
        if bucket > hb then
          st.gone[#st.gone + 1] = fields[j]
        end
      end
    end
  end
  return st
end

-- Per-bucket usage of one dimension over a rolling window, oldest bucket first.
local function bucket_history(key, bucket, count, d)
  local fields = {}
  for b = bucket - count + 1, bucket do
    fields[#fields + 1] = DIM[d] .. fmt(b)
  end
  local got = hmget(key, unpack(fields))
  local out = {}
  for j = 1, count do
    out[j] = tonumber(got[j]) or 0
  end
  return out
end

-- Adds settled tokens a = {i, o, t} to bucket b of window st, writing the changed fields into
-- `set`; usage for a bucket that already rolled off is outside the window and dropped.
local function add_used(key, st, bucket, count, a, set)
  if count <= 1 then
    for d = 1, 3 do
      if a[d] ~= 0 then
        set[#set + 1] = DIM[d] .. '0'
        set[#set + 1] = fmt(min(MAX, st.u[d] + a[d]))
        st.u[d] = st.u[d] + a[d]
      end
    end
    return
  end
  if st.hb and bucket <= st.hb - count then
    return
  end
  local tot = st.tot
  if not st.hb or bucket > st.hb then
    set[#set + 1] = 'hb'
    set[#set + 1] = fmt(bucket)
    if #st.gone > 0 then
      hdel(key, st.gone)
    end
    -- the sum of what stays is what the caller's bucket sees
    tot = {st.u[1], st.u[2], st.u[3]}
  end
  for d = 1, 3 do
    if a[d] ~= 0 then
      set[#set + 1] = DIM[d] .. fmt(bucket)
      set[#set + 1] = fmt(min(MAX, st.cur[d] + a[d]))
      tot[d] = min(MAX, tot[d] + a[d])
      st.u[d] = st.u[d] + a[d]
    end
  end
  set[#set + 1] = 'ui'
  set[#set + 1] = fmt(tot[1])
  set[#set + 1] = 'uo'
  set[#set + 1] = fmt(tot[2])
  set[#set + 1] = 'ut'
  set[#set + 1] = fmt(tot[3])
end

-- Thresholds of slot s reached for the first time in this window and limit (st holds its usage
-- after the settlement); a rolling window re-arms a threshold once usage has rolled off below
-- it. Appends crossings to `out` and the changed state to `set`.
local function crossings(s, st, out, set)
  local used = st.u
  local pct = 0
  for d = 1, 3 do
    if s.lim[d] ~= -1 then
      pct = max(pct, used[d] * 100 / s.lim[d])
    end
  end
  local fired = st.fp
  -- the common case: nothing fired in this window and usage is below the lowest threshold
  if (not fired or fired == ',') and pct < (tonumber(string.match(s.th, '%d+')) or math.huge) then
    return
  end
  local want = fmt(s.lim[1]) .. ',' .. fmt(s.lim[2]) .. ',' .. fmt(s.lim[3])
  local changed = st.fl ~= want
  if changed or not fired then
    fired = ','
  end
  for p in string.gmatch(s.th, '%d+') do
    local pn = tonumber(p)
    local mark = ',' .. p .. ','
    local has = string.find(fired, mark, 1, true)
    if pct >= pn and not has then
      fired = fired .. p .. ','
      changed = true
      out[#out + 1] = {s.bid, s.wk, pn, used[1], used[2], used[3], s.lim[1], s.lim[2], s.lim[3]}
    elseif pct < pn and has and s.count > 1 then
      fired = string.gsub(fired, mark, ',', 1)
      changed = true
    end
  end
  if changed then
    set[#set + 1] = 'fl'
    set[#set + 1] = want
    set[#set + 1] = 'fp'
    set[#set + 1] = fired
  end
end

-- ---- cross-team allocation (docs/allocation.md; PathAdmission.java is the same rule in memory) ----

local function triple(v)
  return {tonumber(v[1]) or 0, tonumber(v[2]) or 0, tonumber(v[3]) or 0}
end

-- Reads the allocation counters of a window into st (once): given, draw, pool contributions and use.
local function load_alloc(key, st)
  if st.g then
    return
  end
  local v = hmget(key, 'gi', 'go', 'gt', 'di', 'do', 'dt', 'ci', 'co', 'ct', 'pi', 'po', 'pt')
  st.g = triple({v[1], v[2], v[3]})
  st.dr = triple({v[4], v[5], v[6]})
  st.c = triple({v[7], v[8], v[9]})
  st.p = triple({v[10], v[11], v[12]})
end

local function split(text, sep)
  local out, from = {}, 1
  while true do
    local at = string.find(text, sep, from, true)
    if not at then
      out[#out + 1] = string.sub(text, from)
      return out
    end
    out[#out + 1] = string.sub(text, from, at - 1)
    from = at + 1
  end
end

-- A hold as "for|i|o|t|until" (for empty when held for nobody); config holds come as "id|" .. that.
local function parse_hold(id, text)
  local f = split(text, '|')
  return {id = id, fb = f[1] ~= '' and f[1] or nil, t = {tonumber(f[2]), tonumber(f[3]), tonumber(f[4])},
    untl = tonumber(f[5])}
end

-- Reads a window's run-time holds and its children's mirrors into st (once).
local function load_holds(key, st)
  if st.holds then
    return
  end
  st.holds, st.m = {}, {}
  wb_flush(key)
  local all = call('HGETALL', key)
  for j = 1, #all, 2 do
    local f, v = all[j], all[j + 1]
    local p = string.sub(f, 1, 2)
    if p == 'h:' then
      st.holds[#st.holds + 1] = parse_hold(string.sub(f, 3), v)
    elseif p == 'm:' then
      local m = {}
      for x in string.gmatch(v, '[^,]+') do
        m[#m + 1] = tonumber(x)
      end
      st.m[string.sub(f, 3)] = m
    end
  end
end

-- The part of hold h its beneficiary has not consumed yet, per dimension (all of it without one).
local function unconsumed(h, st)
  local m = h.fb and st.m[h.fb] or {0, 0, 0}
  return {max(0, h.t[1] - m[1]), max(0, h.t[2] - m[2]), max(0, h.t[3] - m[3])}
end

-- A linked child's used or reserved tokens changed (st holds the new values): recomputes its draw
-- from the parent's pool, returning the changed draw fields in `set` and, in `pending` (the
-- parent's), the change of the pool's use and the child's mirror. Returns the change of the draw.
local function follow(s, st, set, pending)
  local delta = {0, 0, 0}
  local committed = {}
  for d = 1, 3 do
    committed[d] = st.u[d] + st.r[d]
    local draw = 0
    if s.overflow and s.cap[d] ~= -1 then
      draw = max(0, committed[d] - max(0, s.cap[d] - st.g[d]))
    end
    delta[d] = draw - st.dr[d]
    if delta[d] ~= 0 then
      st.dr[d] = draw
      set[#set + 1] = 'd' .. DIM[d]
      set[#set + 1] = fmt(draw)
      pending.dp[d] = pending.dp[d] + delta[d]
    end
  end
  pending.m[#pending.m + 1] = 'm:' .. s.bid
  pending.m[#pending.m + 1] = fmt(committed[1]) .. ',' .. fmt(committed[2]) .. ',' .. fmt(committed[3])
  return delta
end

-- Writes what children left for their parent window: the pool's use and their mirrors.
local function settle_pending(st, pending, set)
  if not pending then
    return
  end
  for d = 1, 3 do
    if pending.dp[d] ~= 0 then
      st.p[d] = st.p[d] + pending.dp[d]
      set[#set + 1] = 'p' .. DIM[d]
      set[#set + 1] = fmt(st.p[d])
    end
  end
  for j = 1, #pending.m do
    set[#set + 1] = pending.m[j]
  end
end

local function new_pending()
  return {dp = {0, 0, 0}, m = {}}
end

-- Gives a key that records no expiry of its own (the ledger's) at least `ttl_ms` more to live.
local function keep_key_for(key, ttl_ms)
  local left = call('PTTL', key)
  if left < 0 or left < ttl_ms - slack(ttl_ms) then
    call('PEXPIRE', key, fmt(ttl_ms))
  end
end

-- Gives window `key` (state st from window_state) its lifetime of `ttl_ms` from server time `now`
-- as reserve.lua does, recording the expiry in 'ex'; to run after a write to the key.
local function keep_window(key, st, now, ttl_ms)
  local at, ex = expiry_plan(key, st.ex, now, now + ttl_ms, slack(ttl_ms))
  if at or not st.ex then
    st.ex = fmt(ex)
    hset(key, {'ex', st.ex})
  end
  if at then
    pexpireat(key, at)
  end
end

-- Appends ledger entry e (at, kind, budget, window, before and after as name -> count tables,
-- actor, reason, key) to the tree's ledger unless its idempotency key was recorded before; returns
-- the entry as stored (JSON) and whether it is new. Numbers are strings: JSON numbers would lose
-- digits past 10^14.
local function ledger_append(gkey, kkey, ttl_ms, e)
  if e.key and e.key ~= '' then
    local known = call('HGET', kkey, e.key)
    if known then
      return call('LINDEX', gkey, fmt(tonumber(known) - 1)), false
    end
  end
  local seq = call('LLEN', gkey) + 1
  e.seq = fmt(seq)
  local text = cjson.encode(e)
  call('RPUSH', gkey, text)
  keep_key_for(gkey, ttl_ms)
  if e.key and e.key ~= '' then
    call('HSET', kkey, e.key, fmt(seq))
    keep_key_for(kkey, ttl_ms)
  end
  return text, true
end

-- A lease as stored (MessagePack): {ri, ro, rt, 'v2', then per slot: budget, window, bucket,
-- count, wexp, li, lo, lt, th, ci, co, ct (caps), parent (1-based slot of the lease, 0 for none),
-- overflow (0/1)}; the window's key is <tree prefix>w:<budget>/<window>. Leases written before
-- allocation existed have no 'v2' and nine fields per slot (no caps, no parent link).
local LEASE_SLOT = 14
local LEASE_V1_SLOT = 9

local function lease_slots(lkey, lease)
  local base = string.sub(lkey, 1, -2) .. 'w:'
  local slots = {}
  local v2 = lease[4] == 'v2'
  local first, width = v2 and 5 or 4, v2 and LEASE_SLOT or LEASE_V1_SLOT
  for i = first, #lease, width do
    slots[#slots + 1] = {key = base .. lease[i] .. '/' .. lease[i + 1], bid = lease[i], wk = lease[i + 1],
      bucket = lease[i + 2], count = lease[i + 3], wexp = lease[i + 4],
      lim = {lease[i + 5], lease[i + 6], lease[i + 7]}, th = lease[i + 8],
      cap = v2 and {lease[i + 9], lease[i + 10], lease[i + 11]} or {-1, -1, -1},
      parent = v2 and lease[i + 12] or 0, overflow = v2 and lease[i + 13] == 1}
  end
  return slots
end

-- Moves a lease from reserved to used at the amounts a = {i, o, t}, brings draws, pool use and
-- mirrors along, and returns the crossings. One read and one write per window (a window twice on
-- the path is read again after its write); a child's slot precedes its parent's.
local function apply_lease(lkey, lease, a, now)
  local out = {}
  local pendings = {}
  for i, s in ipairs(lease_slots(lkey, lease)) do
    local st = window_state(s.key, s.bucket, s.count, true)
    local set = {}
    for d = 1, 3 do
      if lease[d] ~= 0 then
        st.r[d] = max(0, st.r[d] - lease[d])
        set[#set + 1] = 'r' .. DIM[d]
        set[#set + 1] = fmt(st.r[d])
      end
    end
    add_used(s.key, st, s.bucket, s.count, a, set)
    if s.parent > 0 then
      load_alloc(s.key, st)
      pendings[s.parent] = pendings[s.parent] or new_pending()
      follow(s, st, set, pendings[s.parent])
    end
    if pendings[i] then
      load_alloc(s.key, st)
      settle_pending(st, pendings[i], set)
    end
    crossings(s, st, out, set)
    if #set > 0 then
      local at
      if not st.ex then
        -- a window that had expired or vanished gets its lifetime back
        local ex
        at, ex = expiry_plan(s.key, nil, now, s.wexp, 0)
        set[#set + 1] = 'ex'
        set[#set + 1] = fmt(ex)
      end
      hset(s.key, set)
      if at then
        pexpireat(s.key, at)
      end
    end
  end
  return out
end

local function budget_ids(lkey, lease)
  local ids, seen = {}, {}
  for _, s in ipairs(lease_slots(lkey, lease)) do
    if not seen[s.bid] then
      seen[s.bid] = true
      ids[#ids + 1] = s.bid
    end
  end
  return ids
end

-- Charges up to `batch` leases expired by server time `now` at their reserved amounts.
local function expire_due(lkey, xkey, now, batch)
  local out = {}
  local ids = call('ZRANGEBYSCORE', xkey, '-inf', fmt(now), 'LIMIT', '0', fmt(batch))
  if #ids == 0 then
    return out
  end
  local packed = call('HMGET', lkey, unpack(ids))
  call('ZREM', xkey, unpack(ids))
  call('HDEL', lkey, unpack(ids))
  for j, id in ipairs(ids) do
    if packed[j] then
      local lease = cmsgpack.unpack(packed[j])
      local c = apply_lease(lkey, lease, {lease[1], lease[2], lease[3]}, now)
      out[#out + 1] = {id, lease[1], lease[2], lease[3], budget_ids(lkey, lease), c}
    end
  end
  return out
end

-- Before a reserve or settle: charges leases that ran out, looking at the ZSET's head first (one
-- cheap read when none is due). Returns the expired leases and whether :x was empty or emptied.
local function expire_in_passing(lkey, xkey, now, batch)
  local head = call('ZRANGE', xkey, 0, 0, 'WITHSCORES')
  if #head == 0 then
    return {}, true
  end
  if tonumber(head[2]) > now then
    return {}, false
  end
  return expire_due(lkey, xkey, now, batch), true
end

-- The state of one tree shared by the commands of a script call (one command, or a batch): server
-- time, generation, the lease hash's recorded expiry (tex), the leases expired in passing not yet
-- reported, and whether :x may lack its TTL (xr: it was empty, emptied, or a settle may have
-- emptied it). Read once, by the first command that gets past its argument checks.
local function tree_state(lkey, xkey)
  return {lkey = lkey, xkey = xkey}
end

local function tree_ready(T, batch)
  if T.now then
    return
  end
  T.now, T.time = server_time()
  local v = call('HMGET', T.lkey, '!gen', '!ex')
  T.gen, T.tex = v[1] or nil, v[2] or nil
  T.expired, T.xr = expire_in_passing(T.lkey, T.xkey, T.now, T.batch or batch)
end

-- The leases expired in passing, for the first reply that goes out (each is reported once).
local function take_expired(T)
  local e = T.expired
  T.expired = {}
  return e
end
