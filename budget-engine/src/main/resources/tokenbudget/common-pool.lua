-- tokenbudget: cross-team allocation (docs/allocation.md; PathAdmission.java is the same rule in
-- memory), key lifetimes and the ledger; RedisScripts puts this file after common-window.lua.

local function triple(v)
  return {stored(v[1]), stored(v[2]), stored(v[3])}
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
      set[#set + 1] = DF[d]
      set[#set + 1] = draw
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
      set[#set + 1] = PF[d]
      set[#set + 1] = st.p[d]
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
