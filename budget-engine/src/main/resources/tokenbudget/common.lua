-- tokenbudget: functions shared by every script; RedisScripts prepends this file to each one.
-- Key layout (docs/redis.md), all keys of one tree share the hash tag {tree}:
--   <prefix>:{tree}:l            HASH  lease id -> packed lease; field '!gen' = the tree's generation
--   <prefix>:{tree}:x            ZSET  lease id -> expiry (Redis server time, ms)
--   <prefix>:{tree}:w:<budget>/<window>  HASH  one window: ri ro rt (reserved), i<b> o<b> t<b> (used
--                                 in bucket b; calendar windows use b = 0), hb (newest bucket of a
--                                 rolling window), fl (limits the fired thresholds refer to), fp
--                                 (fired percents, ",50,90,"); allocation (docs/allocation.md, calendar
--                                 windows only): gi go gt (given to the parent's pool), di do dt (draw
--                                 from it), ci co ct (pool: contributions), pi po pt (pool: used),
--                                 m:<child> ("i,o,t" mirror of a child's used + reserved), hn (number
--                                 of run-time holds), h:<id> ("for|i|o|t|until ms"), rb (rebalanced at)
--   <prefix>:{tree}:g            LIST  the ledger: one JSON entry per change (allocation moves, limits)
--   <prefix>:{tree}:gk           HASH  ledger idempotency key -> seq
-- Every number is an integer below 2^53 (checked by num); numbers handed to redis.call are
-- formatted with %d so that no exponent notation can reach Redis.

local MAX = 9007199254740991
local DIM = {'i', 'o', 't'}
local DIM_OF = {i = 1, o = 2, t = 3}
local LABEL = {'input', 'output', 'total'}
local SLOT_ARGS = 14

local function fmt(n)
  return string.format('%d', n)
end

local function num(v, what)
  local n = tonumber(v)
  if n == nil or n ~= n or n < -1 or n > MAX or n ~= math.floor(n) then
    error('tokenbudget: ' .. what .. ' must be a whole number in -1..2^53-1, was ' .. tostring(v))
  end
  return n
end

local function server_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- The tree's generation: server time in microseconds when the tree was created, so a newer one
-- means its state was lost and begun again.
local function tree_gen(lkey, create)
  local g = redis.call('HGET', lkey, '!gen')
  if not g and create then
    local t = redis.call('TIME')
    g = t[1] .. string.format('%06d', tonumber(t[2]))
    redis.call('HSET', lkey, '!gen', g)
  end
  return g or ''
end

-- Sets a TTL on a key that has none, and lengthens one that is shorter (by more than a little
-- slack, to spare a write per call); never shortens.
local function keep_for(key, ttl_ms)
  local left = redis.call('PTTL', key)
  if left < 0 or left < ttl_ms - math.min(60000, math.floor(ttl_ms / 10)) then
    redis.call('PEXPIRE', key, fmt(ttl_ms))
  end
end

-- One window as the scripts see it: used (summed over buckets bucket-count+1 .. bucket) and
-- reserved per dimension, plus what settling needs: bucket fields (rolling), the newest bucket
-- hb, the fired-threshold state fl/fp, and whether the key held anything at all.
local function window_state(key, bucket, count)
  local st = {u = {0, 0, 0}, r = {0, 0, 0}, fv = {}, fresh = true}
  if count <= 1 then
    local v = redis.call('HMGET', key, 'i0', 'o0', 't0', 'ri', 'ro', 'rt', 'fl', 'fp', 'hn')
    for d = 1, 3 do
      st.u[d] = tonumber(v[d]) or 0
      st.r[d] = tonumber(v[d + 3]) or 0
    end
    for j = 1, 9 do
      if v[j] then
        st.fresh = false
      end
    end
    st.fl, st.fp = v[7], v[8]
    st.hn = tonumber(v[9]) or 0
    return st
  end
  local oldest = bucket - count + 1
  local all = redis.call('HGETALL', key)
  st.fresh = #all == 0
  for j = 1, #all, 2 do
    local f, v = all[j], all[j + 1]
    local c = string.sub(f, 1, 1)
    local d = DIM_OF[c]
    if d then
      local b = tonumber(string.sub(f, 2))
      if b then
        st.fv[f] = b
        if b >= oldest and b <= bucket then
          st.u[d] = st.u[d] + tonumber(v)
        end
      end
    elseif c == 'r' and DIM_OF[string.sub(f, 2)] then
      st.r[DIM_OF[string.sub(f, 2)]] = tonumber(v)
    elseif f == 'hb' then
      st.hb = tonumber(v)
    elseif f == 'fl' then
      st.fl = v
    elseif f == 'fp' then
      st.fp = v
    end
  end
  st.all = all
  return st
end

-- Per-bucket usage of one dimension over a rolling window, oldest bucket first.
local function bucket_history(key, bucket, count, d)
  local oldest = bucket - count + 1
  local out = {}
  for j = 1, count do
    out[j] = 0
  end
  local all = redis.call('HGETALL', key)
  for j = 1, #all, 2 do
    local f = all[j]
    if string.sub(f, 1, 1) == DIM[d] then
      local b = tonumber(string.sub(f, 2))
      if b and b >= oldest and b <= bucket then
        out[b - oldest + 1] = tonumber(all[j + 1])
      end
    end
  end
  return out
end

-- Adds settled tokens a = {i, o, t} to bucket b of window st, writing the changed fields into
-- `set`; usage for a bucket that already rolled off is outside the window and dropped.
local function add_used(key, st, bucket, count, a, set)
  local value_of = {}
  if count > 1 then
    if st.hb and bucket <= st.hb - count then
      return
    end
    if not st.hb or bucket > st.hb then
      set[#set + 1] = 'hb'
      set[#set + 1] = fmt(bucket)
      local dead = {}
      for f, b in pairs(st.fv) do
        if b < bucket - count + 1 then
          dead[#dead + 1] = f
        end
      end
      if #dead > 0 then
        redis.call('HDEL', key, unpack(dead))
      end
    end
    for j = 1, #st.all, 2 do
      value_of[st.all[j]] = tonumber(st.all[j + 1])
    end
  end
  for d = 1, 3 do
    if a[d] ~= 0 then
      local field = DIM[d] .. fmt(bucket)
      local cur = count > 1 and (value_of[field] or 0) or st.u[d]
      set[#set + 1] = field
      set[#set + 1] = fmt(math.min(MAX, cur + a[d]))
      st.u[d] = st.u[d] + a[d]
    end
  end
end

-- Thresholds of slot s reached for the first time in this window and limit (st holds its usage
-- after the settlement); a rolling window re-arms a threshold once usage has rolled off below
-- it. Appends crossings to `out` and the changed state to `set`.
local function crossings(s, st, out, set)
  local want = fmt(s.lim[1]) .. ',' .. fmt(s.lim[2]) .. ',' .. fmt(s.lim[3])
  local fired = st.fp or ','
  local changed = st.fl ~= want
  if changed then
    fired = ','
  end
  local used = st.u
  local pct = 0
  for d = 1, 3 do
    if s.lim[d] ~= -1 then
      pct = math.max(pct, used[d] * 100 / s.lim[d])
    end
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
  local v = redis.call('HMGET', key, 'gi', 'go', 'gt', 'di', 'do', 'dt', 'ci', 'co', 'ct', 'pi', 'po', 'pt')
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
  local all = redis.call('HGETALL', key)
  for j = 1, #all, 2 do
    local f, v = all[j], all[j + 1]
    local p = string.sub(f, 1, 2)
    if p == 'h:' then
      st.holds[#st.holds + 1] = parse_hold(string.sub(f, 3), v)
    elseif p == 'm:' then
      local m = {}
      for n in string.gmatch(v, '[^,]+') do
        m[#m + 1] = tonumber(n)
      end
      st.m[string.sub(f, 3)] = m
    end
  end
end

-- The part of hold h its beneficiary has not consumed yet, per dimension (all of it without one).
local function unconsumed(h, st)
  local m = h.fb and st.m[h.fb] or {0, 0, 0}
  return {math.max(0, h.t[1] - m[1]), math.max(0, h.t[2] - m[2]), math.max(0, h.t[3] - m[3])}
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
      draw = math.max(0, committed[d] - math.max(0, s.cap[d] - st.g[d]))
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

-- Appends ledger entry e (at, kind, budget, window, before and after as name -> count tables,
-- actor, reason, key) to the tree's ledger unless its idempotency key was recorded before; returns
-- the entry as stored (JSON) and whether it is new. Numbers are strings: JSON numbers would lose
-- digits past 10^14.
local function ledger_append(gkey, kkey, ttl_ms, e)
  if e.key and e.key ~= '' then
    local known = redis.call('HGET', kkey, e.key)
    if known then
      return redis.call('LINDEX', gkey, fmt(tonumber(known) - 1)), false
    end
  end
  local seq = redis.call('LLEN', gkey) + 1
  e.seq = fmt(seq)
  local text = cjson.encode(e)
  redis.call('RPUSH', gkey, text)
  keep_for(gkey, ttl_ms)
  if e.key and e.key ~= '' then
    redis.call('HSET', kkey, e.key, fmt(seq))
    keep_for(kkey, ttl_ms)
  end
  return text, true
end

-- A lease as stored: {ri, ro, rt, 'v2', then per slot: key, budget, window, bucket, count, wexp, li, lo,
-- lt, th, ci, co, ct (caps), parent (1-based slot of the lease, 0 for none), overflow (0/1)}. Leases
-- written before allocation existed have no 'v2' and ten fields per slot (no caps, no parent).
local LEASE_SLOT = 15
local LEASE_V1_SLOT = 10

local function lease_slots(lease)
  local slots = {}
  local v2 = lease[4] == 'v2'
  local first, width = v2 and 5 or 4, v2 and LEASE_SLOT or LEASE_V1_SLOT
  for i = first, #lease, width do
    slots[#slots + 1] = {key = lease[i], bid = lease[i + 1], wk = lease[i + 2], bucket = lease[i + 3],
      count = lease[i + 4], wexp = lease[i + 5], lim = {lease[i + 6], lease[i + 7], lease[i + 8]},
      th = lease[i + 9], cap = v2 and {lease[i + 10], lease[i + 11], lease[i + 12]} or {-1, -1, -1},
      parent = v2 and lease[i + 13] or 0, overflow = v2 and lease[i + 14] == 1}
  end
  return slots
end

-- Moves a lease from reserved to used at the amounts a = {i, o, t}, brings draws, pool use and
-- mirrors along, and returns the crossings. One read and one write per window (a window twice on
-- the path is read again after its write); a child's slot precedes its parent's.
local function apply_lease(lease, a)
  local out = {}
  local pendings = {}
  for i, s in ipairs(lease_slots(lease)) do
    local st = window_state(s.key, s.bucket, s.count)
    local set = {}
    for d = 1, 3 do
      if lease[d] ~= 0 then
        st.r[d] = math.max(0, st.r[d] - lease[d])
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
      redis.call('HSET', s.key, unpack(set))
      if st.fresh then
        -- the window had expired or vanished: give it back its lifetime
        redis.call('PEXPIREAT', s.key, fmt(s.wexp))
      end
    end
  end
  return out
end

local function budget_ids(lease)
  local ids, seen = {}, {}
  for _, s in ipairs(lease_slots(lease)) do
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
  local ids = redis.call('ZRANGEBYSCORE', xkey, '-inf', fmt(now), 'LIMIT', '0', fmt(batch))
  for _, id in ipairs(ids) do
    redis.call('ZREM', xkey, id)
    local packed = redis.call('HGET', lkey, id)
    if packed then
      redis.call('HDEL', lkey, id)
      local lease = cmsgpack.unpack(packed)
      local c = apply_lease(lease, {lease[1], lease[2], lease[3]})
      out[#out + 1] = {id, lease[1], lease[2], lease[3], budget_ids(lease), c}
    end
  end
  return out
end

