-- tokenbudget: leases (settling, expiry) and the tree state a script call shares between its
-- commands; RedisScripts puts this file after common-pool.lua.

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
        set[#set + 1] = RF[d]
        set[#set + 1] = st.r[d]
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

-- Lease writes of a batch (batch.lua calls lease_batch): gathered in T and sent once at the end
-- (lease_flush: one HSET and one HDEL of :l, one ZADD and one ZREM of :x, each PEXPIREAT once)
-- instead of two or three Redis calls per command, and the leases the batch's settles name read
-- with one HMGET. Reads see the batch's pending writes, so each command sees what the commands
-- before it left. Alone (reserve.lua, settle.lua), every write goes straight to Redis.
local function lease_batch(T, settle_ids)
  T.lw, T.lz, T.px, T.sids = {}, {}, {}, settle_ids
end

-- The packed lease `id` (nil when there is none), pending writes first.
local function lease_get(T, id)
  local lw = T.lw
  if not lw then
    return call('HGET', T.lkey, id) or nil
  end
  local v = lw[id]
  if v ~= nil then
    return v or nil
  end
  local pre = T.pre
  if not pre then
    -- after the expiry in passing (tree_ready), before any write of the batch reaches :l
    pre = {}
    if #T.sids > 0 then
      local got = call('HMGET', T.lkey, unpack(T.sids))
      for j = 1, #T.sids do
        pre[T.sids[j]] = got[j]
      end
    end
    T.pre = pre
  end
  v = pre[id]
  if v == nil then
    v = call('HGET', T.lkey, id)
    pre[id] = v
  end
  return v or nil
end

-- Records lease `id` (packed) due at `due` in :x; `ex`, when given, is :l's new recorded expiry.
local function lease_put(T, id, packed, due, ex)
  if not T.lw then
    if ex then
      call('HSET', T.lkey, id, packed, '!ex', ex)
    else
      call('HSET', T.lkey, id, packed)
    end
    call('ZADD', T.xkey, fmt(due), id)
    return
  end
  T.lw[id], T.lz[id] = packed, due
  if ex then
    T.lex = ex
  end
end

local function lease_del(T, id)
  if not T.lw then
    call('HDEL', T.lkey, id)
    call('ZREM', T.xkey, id)
    return
  end
  T.lw[id], T.lz[id] = false, false
end

-- PEXPIREAT of :l or :x (key) at `at`; in a batch the last one asked for, after the lease writes.
local function tree_expire(T, key, at)
  if not T.lw then
    call('PEXPIREAT', key, fmt(at))
    return
  end
  T.px[key] = at
end

local function lease_flush(T)
  if not T.lw then
    return
  end
  local set, add, del = {}, {}, {}
  for id, v in pairs(T.lw) do
    if v then
      local n, m = #set, #add
      set[n + 1], set[n + 2] = id, v
      add[m + 1], add[m + 2] = fmt(T.lz[id]), id
    else
      del[#del + 1] = id
    end
  end
  if T.lex then
    local n = #set
    set[n + 1], set[n + 2] = '!ex', T.lex
  end
  if #set > 0 then
    call('HSET', T.lkey, unpack(set))
  end
  if #del > 0 then
    call('HDEL', T.lkey, unpack(del))
  end
  -- ZADD before ZREM: :x never empties on the way (Redis would delete it, and a new one lack a TTL)
  if #add > 0 then
    call('ZADD', T.xkey, unpack(add))
  end
  if #del > 0 then
    call('ZREM', T.xkey, unpack(del))
  end
  for _, key in ipairs({T.lkey, T.xkey}) do
    if T.px[key] then
      call('PEXPIREAT', key, fmt(T.px[key]))
    end
  end
  T.lw, T.lz, T.px, T.lex = {}, {}, {}, nil
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
