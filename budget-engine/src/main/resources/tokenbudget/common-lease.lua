-- tokenbudget: leases (settling, expiry) and the tree state a script call shares between its
-- commands; RedisScripts puts this file after common-pool.lua.

-- A lease as stored (MessagePack): {ri, ro, rt, 'v2', then per slot: budget, window, bucket,
-- count, wexp, li, lo, lt, th, ci, co, ct (caps), parent (1-based slot of the lease, 0 for none),
-- overflow (0/1)}; the window's key is <tree prefix>w:<budget>/<window>. Leases written before
-- allocation existed have no 'v2' and nine fields per slot (no caps, no parent link).
local LEASE_SLOT = 14
local LEASE_V1_SLOT = 9

-- The slots of a lease, as records {key, bid, wk, bucket, count, wexp, lim, th, cap, parent,
-- overflow}, and their number. The records are reused from lease to lease within a script call (a
-- table built per slot of every settled lease was a fair part of a settle's cost): read them
-- before the next lease_slots, never keep them.
local SLOTS = {}
local function lease_slots(lkey, lease)
  local base = string.sub(lkey, 1, -2) .. 'w:'
  local v2 = lease[4] == 'v2'
  local first, width = v2 and 5 or 4, v2 and LEASE_SLOT or LEASE_V1_SLOT
  local n = 0
  for i = first, #lease, width do
    n = n + 1
    local s = SLOTS[n]
    if not s then
      s = {key = '', bid = '', wk = '', bucket = 0, count = 0, wexp = 0, lim = {0, 0, 0}, th = '', cap = {0, 0, 0},
        parent = 0, overflow = false}
      SLOTS[n] = s
    end
    s.key = base .. lease[i] .. '/' .. lease[i + 1]
    s.bid, s.wk, s.bucket, s.count, s.wexp = lease[i], lease[i + 1], lease[i + 2], lease[i + 3], lease[i + 4]
    s.th = lease[i + 8]
    local lim, cap = s.lim, s.cap
    lim[1], lim[2], lim[3] = lease[i + 5], lease[i + 6], lease[i + 7]
    if v2 then
      cap[1], cap[2], cap[3] = lease[i + 9], lease[i + 10], lease[i + 11]
      s.parent, s.overflow = lease[i + 12], lease[i + 13] == 1
    else
      cap[1], cap[2], cap[3] = -1, -1, -1
      s.parent, s.overflow = 0, false
    end
  end
  return SLOTS, n
end

-- Moves a lease from reserved to used at the amounts a = {i, o, t}, brings draws, pool use and
-- mirrors along, and returns the crossings. One read and one write per window (a window twice on
-- the path is read again after its write); a child's slot precedes its parent's.
local function apply_lease(lkey, lease, a, now)
  local out = {}
  local pendings = {}
  local slots, n = lease_slots(lkey, lease)
  for i = 1, n do
    local s = slots[i]
    local st = window_state(s.key, s.bucket, s.count, true)
    -- room for 24 entries up front (nil placeholders): a settle writes 12 to 20 fields of a window,
    -- and a table grown one entry at a time is reallocated at 1, 2, 4, 8 and 16
    local set = {nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil,
      nil, nil, nil, nil}
    local k, r = 0, st.r
    for d = 1, 3 do
      if lease[d] ~= 0 then
        r[d] = max(0, r[d] - lease[d])
        set[k + 1], set[k + 2] = RF[d], r[d]
        k = k + 2
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
  local slots, n = lease_slots(lkey, lease)
  for i = 1, n do
    local s = slots[i]
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

-- The leases expired in passing, for the first reply that goes out (each is reported once); false
-- (a nil to the caller, read as an empty list) when there are none, as every empty list of a
-- reply is: a table costs the script to build and Redis to convert, a nil does not.
local function take_expired(T)
  local e = T.expired
  if #e == 0 then
    return false
  end
  T.expired = {}
  return e
end
