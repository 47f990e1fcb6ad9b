-- tokenbudget reserve, as functions: reserve_path(K, k0, n, A, a0) reads a request path's settings
-- once: n slots, whose window keys are K[k0 + 1 .. k0 + n] and whose SLOT_ARGS arguments each (header
-- of reserve.lua) are A[a0 + 1 ..]; reserve_cmd(P, A, h0, T) reserves for one command over path P,
-- its RESERVE_HEAD arguments being A[h0 + 1 ..]; T is the tree's batch state (tree_ready in
-- common.lua). Used by reserve.lua (one command) and batch.lua (several, each path's settings sent
-- and read once per call however many commands share it), which check the argument count.
local RESERVE_HEAD = 7

local function parse_alloc(text)
  if text == '' then
    return nil
  end
  local f = split(text, ',')
  return {parent = num(f[1], 'parent slot'), overflow = f[2] == '1',
    oc = {num(f[3], 'overflow cap'), num(f[4], 'overflow cap'), num(f[5], 'overflow cap')}, pool = f[6] == '1',
    head = {num(f[7], 'headroom'), num(f[8], 'headroom'), num(f[9], 'headroom')}}
end

local function parse_config_holds(text)
  local out = {}
  if text == '' then
    return out
  end
  for _, h in ipairs(split(text, ';')) do
    local bar = string.find(h, '|', 1, true)
    out[#out + 1] = parse_hold(string.sub(h, 1, bar - 1), string.sub(h, bar + 1))
  end
  return out
end

-- Fails unless a reserve over n slots has `got` arguments.
local function reserve_arity(n, got)
  if got ~= RESERVE_HEAD + n * SLOT_ARGS then
    error('tokenbudget: reserve expects ' .. (RESERVE_HEAD + n * SLOT_ARGS) .. ' arguments for ' .. n .. ' slots, got '
      .. got)
  end
end

-- The slots of a path, parsed and checked once; read only afterwards (commands share them).
local function reserve_path(K, k0, n, A, a0)
  local slots, onpath, times = {}, {}, {}
  for i = 1, n do
    local a = a0 + (i - 1) * SLOT_ARGS
    local s = {key = K[k0 + i], bid = A[a + 1], wk = A[a + 2], bucket = num(A[a + 3], 'bucket'),
      count = num(A[a + 4], 'bucket count'), wexp = num(A[a + 5], 'window expiry'),
      cap = {num(A[a + 6], 'cap'), num(A[a + 7], 'cap'), num(A[a + 8], 'cap')},
      lim = {num(A[a + 9], 'limit'), num(A[a + 10], 'limit'), num(A[a + 11], 'limit')}, th = A[a + 12],
      al = parse_alloc(A[a + 13]), chold = parse_config_holds(A[a + 14])}
    if A[a + 15] ~= '' then
      local f = split(A[a + 15], ',')
      s.line = {num(f[1], 'degrade line'), num(f[2], 'degrade line'), num(f[3], 'degrade line')}
    end
    s.ck = s.key .. '#' .. A[a + 3] -- the bucket as sent (Java's Long.toString): no number formatting
    s.parent = s.al and s.al.parent or 0
    s.overflow = s.al ~= nil and s.al.overflow
    s.loadh = #s.chold > 0
    slots[i] = s
    onpath[s.bid] = true
    times[s.ck] = (times[s.ck] or 0) + 1
  end
  return {n = n, slots = slots, onpath = onpath, times = times}
end

local function reserve_cmd(P, A, h0, T)
  local n, slots, onpath = P.n, P.slots, P.onpath
  local lkey, xkey = T.lkey, T.xkey
  local lease_id = A[h0 + 1]
  local lease_ttl = max(1, num(A[h0 + 2], 'lease ttl'))
  local req = {num(A[h0 + 3], 'input'), num(A[h0 + 4], 'output')}
  req[3] = req[1] + req[2]
  if req[1] < 0 or req[2] < 0 or req[3] > MAX then
    error('tokenbudget: input and output must be >= 0 and at most 2^53-1 together')
  end
  local batch = num(A[h0 + 5], 'expiry batch')
  local enow = num(A[h0 + 6], 'engine time')
  local lower = num(A[h0 + 7], 'lower output ceiling')
  tree_ready(T, batch)
  local now = T.now
  if not T.gen then
    -- a new tree (or one whose state was lost): its generation is its creation time in microseconds
    T.gen = T.time[1] .. string.format('%06d', tonumber(T.time[2]))
    call('HSET', lkey, '!gen', T.gen)
  end
  local gen = T.gen

  -- this command's view of each window, by window and bucket (a window twice on a path is one state)
  local cache, sts = {}, {} -- sts[i]: slot i's state (a table lookup, not a call: it is read often)

  local function states_upto(last)
    -- sized for four slots up front (the nils are placeholders): a table grown one entry at a
    -- time is reallocated at 1, 2, 4, 8, 16 and 32 entries
    local flat = {nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil,
      nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil}
    local k = 0
    for i = 1, n do
      local st = i <= last and sts[i] or nil
      if st then
        local u, r = st.u, st.r
        flat[k + 1], flat[k + 2], flat[k + 3], flat[k + 4], flat[k + 5], flat[k + 6] = u[1], u[2], u[3], r[1], r[2], r[3]
      else
        flat[k + 1], flat[k + 2], flat[k + 3], flat[k + 4], flat[k + 5], flat[k + 6] = 0, 0, 0, 0, 0, 0
      end
      k = k + 6
    end
    return flat
  end

  -- read every window first: a child's check needs its parent pool's state
  for i = 1, n do
    local s = slots[i]
    local st = cache[s.ck]
    if not st then
      st = window_state(s.key, s.bucket, s.count, false)
      cache[s.ck] = st
    end
    sts[i] = st
    if s.al then
      load_alloc(s.key, st)
    end
    if s.loadh or (st.hn or 0) > 0 then
      load_holds(s.key, st)
    end
  end

  -- holds of slot i in force at the engine's time: the config's, then those made at run time
  local function active(i)
    local out = {}
    for _, h in ipairs(slots[i].chold) do
      if h.untl > enow then
        out[#out + 1] = h
      end
    end
    for _, h in ipairs(sts[i].holds or {}) do
      if h.untl > enow then
        out[#out + 1] = h
      end
    end
    return out
  end

  -- per dimension, what the holds of slot i keep from this request (or, `mine`, what they give it)
  local function held(i, mine)
    if not sts[i].holds then
      return ZERO3
    end
    local out = {0, 0, 0}
    for _, h in ipairs(active(i)) do
      local for_path = h.fb ~= nil and onpath[h.fb] == true
      if for_path == mine then
        local left = unconsumed(h, sts[i])
        for d = 1, 3 do
          out[d] = out[d] + (mine and min(req[d], left[d]) or left[d])
        end
      end
    end
    return out
  end

  -- the reply refusing `req`, or nil when every slot admits it
  local function refusal()
    for i = 1, n do
      local s, st = slots[i], sts[i]
      local keep = held(i, false)
      for d = 1, 3 do
        local cap = s.cap[d]
        if cap ~= -1 then
          local committed = st.u[d] + st.r[d]
          local own = s.parent > 0 and max(0, cap - st.g[d]) or cap
          local drawable, pool_left = 0, 0
          if s.overflow then
            local ps, pst = slots[s.parent], sts[s.parent]
            pool_left = max(0, ps.al.head[d] + pst.c[d] - pst.p[d] + st.dr[d])
            drawable = s.al.oc[d] == -1 and pool_left or min(s.al.oc[d], pool_left)
          end
          local room = own + drawable - keep[d] - committed
          if req[d] > room then
            local cause = 0
            if keep[d] > 0 and committed + req[d] <= own + drawable then
              cause = 3
            elseif s.overflow and committed + req[d] > own then
              cause = (s.al.oc[d] ~= -1 and s.al.oc[d] <= pool_left) and 2 or 1
            end
            local buckets = false
            if s.count > 1 then
              buckets = bucket_history(s.key, s.bucket, s.count, d)
            end
            return {gen, 0, i - 1, d - 1, states_upto(i), buckets, take_expired(T), cause, max(0, room), false, req[2],
              0}
          end
        end
      end
    end
    return nil
  end

  -- whether, with `req` counted, some slot's used + reserved reach its degrade line (a window on
  -- the path twice counts it twice)
  local function reaches()
    local times = P.times
    for i = 1, n do
      local line, st = slots[i].line, sts[i]
      if line then
        for d = 1, 3 do
          if line[d] ~= -1 and st.u[d] + st.r[d] + times[slots[i].ck] * req[d] >= line[d] then
            return true
          end
        end
      end
    end
    return false
  end

  local refused, fitted = refusal(), 0
  if lower ~= -1 then
    -- the smaller ceiling when the request is degraded with it and the path admits it
    local asked = req
    req = {asked[1], lower, asked[1] + lower}
    if reaches() and (refused == nil or refusal() == nil) then
      fitted = refused and 1 or 0
      refused = nil
    else
      req = asked
    end
  end
  if refused then
    return refused
  end

  -- admitted: what it takes out of holds for its path (before mirrors move), then charge every slot
  local uses = false
  for i = 1, n do
    local taken = held(i, true)
    if taken[1] > 0 or taken[2] > 0 or taken[3] > 0 then
      for _, v in ipairs({i - 1, 0, 0, 0, taken[1], taken[2], taken[3]}) do
        uses = uses or {}
        uses[#uses + 1] = v
      end
    end
  end
  for i = 1, n do
    -- the same window may sit on a path twice: both occurrences count, as in memory
    local st = sts[i]
    for d = 1, 3 do
      st.r[d] = st.r[d] + req[d]
    end
  end

  -- sized for four slots up front, as states_upto's table
  local packed = {req[1], req[2], req[3], 'v2', nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil,
    nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil,
    nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil}
  local tree_ttl = lease_ttl
  local pendings = {}
  for i = 1, n do
    local s, st = slots[i], sts[i]
    local wttl = max(1, s.wexp - enow)
    local set = {'ri', st.r[1], 'ro', st.r[2], 'rt', st.r[3], nil, nil} -- room for 'ex' (nil placeholders)
    if s.parent > 0 then
      pendings[s.parent] = pendings[s.parent] or new_pending()
      local delta = follow(s, st, set, pendings[s.parent])
      if delta[1] > 0 or delta[2] > 0 or delta[3] > 0 then
        for _, v in ipairs({i - 1, max(0, delta[1]), max(0, delta[2]), max(0, delta[3]), 0, 0, 0}) do
          uses = uses or {}
          uses[#uses + 1] = v
        end
      end
    end
    settle_pending(st, pendings[i], set)
    if st.holds and not st.pruned then
      -- run-time holds that have ended leave the window
      local ended = {}
      for _, h in ipairs(st.holds) do
        if h.untl <= enow then
          ended[#ended + 1] = 'h:' .. h.id
        end
      end
      if #ended > 0 then
        hdel(s.key, ended)
        set[#set + 1] = 'hn'
        set[#set + 1] = max(0, st.hn - #ended)
      end
      st.pruned = true
    end
    local want = now + wttl
    local at, ex = expiry_plan(s.key, st.ex, now, want, slack(wttl))
    if at or not st.ex then
      st.ex = fmt(ex)
      set[#set + 1] = 'ex'
      set[#set + 1] = st.ex
    end
    hset(s.key, set)
    if at then
      pexpireat(s.key, at)
    end
    tree_ttl = max(tree_ttl, wttl)
    local p = #packed
    packed[p + 1] = s.bid
    packed[p + 2] = s.wk
    packed[p + 3] = s.bucket
    packed[p + 4] = s.count
    packed[p + 5] = want
    packed[p + 6] = s.lim[1]
    packed[p + 7] = s.lim[2]
    packed[p + 8] = s.lim[3]
    packed[p + 9] = s.th
    packed[p + 10] = s.cap[1]
    packed[p + 11] = s.cap[2]
    packed[p + 12] = s.cap[3]
    packed[p + 13] = s.parent
    packed[p + 14] = s.overflow and 1 or 0
  end
  -- tree keys outlive the windows their leases charge, plus a day for a late sweep
  local tree_want = now + tree_ttl + 86400000
  local tree_at, tree_exp = expiry_plan(lkey, T.tex, now, tree_want, slack(tree_ttl + 86400000))
  if tree_at or not T.tex then
    T.tex = fmt(tree_exp)
    call('HSET', lkey, lease_id, cmsgpack.pack(packed), '!ex', T.tex)
  else
    call('HSET', lkey, lease_id, cmsgpack.pack(packed))
  end
  call('ZADD', xkey, fmt(now + lease_ttl), lease_id)
  if tree_at then
    call('PEXPIREAT', lkey, fmt(tree_at))
  end
  if tree_at or T.xr then
    -- :x lives as long as :l; it is created anew whenever its last lease leaves
    call('PEXPIREAT', xkey, fmt(tree_at or tree_exp))
    T.xr = false
  end
  return {gen, 1, -1, -1, states_upto(n), false, take_expired(T), -1, 0, uses, req[2], fitted}
end
