-- tokenbudget reserve: all or nothing over every window of a request's path, in one call.
-- KEYS: 1 leases hash, 2 lease-expiry zset, 3.. one window hash per slot (all in the tree's hash slot)
-- ARGV: 1 lease id, 2 lease ttl ms, 3 input, 4 output, 5 expiry batch,
--       then per slot (SLOT_ARGS): budget, window key, bucket, bucket count, window ttl ms,
--       cap i, cap o, cap t, limit i, limit o, limit t, thresholds ("50,90,100"); -1 = none
-- Returns {gen, admitted 0/1, binding slot (0-based, -1), binding dim (0..2, -1),
--          states {ui uo ut ri ro rt per slot}, binding buckets {} or per bucket, expired leases}
local lkey, xkey = KEYS[1], KEYS[2]
local lease_id = ARGV[1]
local lease_ttl = max(1, num(ARGV[2], 'lease ttl'))
local req = {num(ARGV[3], 'input'), num(ARGV[4], 'output')}
req[3] = req[1] + req[2]
if req[1] < 0 or req[2] < 0 or req[3] > MAX then
  error('tokenbudget: input and output must be >= 0 and at most 2^53-1 together')
end
local batch = num(ARGV[5], 'expiry batch')
local n = #KEYS - 2
if #ARGV ~= 5 + n * SLOT_ARGS then
  error('tokenbudget: reserve expects ' .. (5 + n * SLOT_ARGS) .. ' arguments for ' .. n .. ' slots, got ' .. #ARGV)
end

local now, time = server_time()
local tree = call('HMGET', lkey, '!gen', '!ex')
local gen, tree_ex = tree[1], tree[2]
if not gen then
  -- a new tree (or one whose state was lost): its generation is its creation time in microseconds
  gen = time[1] .. string.format('%06d', tonumber(time[2]))
  call('HSET', lkey, '!gen', gen)
end
local expired, xkey_renewed = expire_in_passing(lkey, xkey, now, batch)

local slots, cache = {}, {}
local function states_upto(last)
  local flat = {}
  for i = 1, n do
    local st = i <= last and cache[slots[i].ck] or nil
    for d = 1, 3 do
      flat[#flat + 1] = st and st.u[d] or 0
    end
    for d = 1, 3 do
      flat[#flat + 1] = st and st.r[d] or 0
    end
  end
  return flat
end

for i = 1, n do
  local a = 5 + (i - 1) * SLOT_ARGS
  local s = {key = KEYS[i + 2], bucket = num(ARGV[a + 3], 'bucket'), count = num(ARGV[a + 4], 'bucket count'),
    wttl = max(1, num(ARGV[a + 5], 'window ttl')),
    cap = {num(ARGV[a + 6], 'cap'), num(ARGV[a + 7], 'cap'), num(ARGV[a + 8], 'cap')},
    lim = {num(ARGV[a + 9], 'limit'), num(ARGV[a + 10], 'limit'), num(ARGV[a + 11], 'limit')}, a = a}
  s.ck = s.key .. '#' .. s.bucket
  slots[i] = s
  local st = cache[s.ck]
  if not st then
    st = window_state(s.key, s.bucket, s.count, false)
    cache[s.ck] = st
  end
  for d = 1, 3 do
    if s.cap[d] ~= -1 and st.u[d] + st.r[d] + req[d] > s.cap[d] then
      local buckets = {}
      if s.count > 1 then
        buckets = bucket_history(s.key, s.bucket, s.count, d)
      end
      return {gen, 0, i - 1, d - 1, states_upto(i), buckets, expired}
    end
  end
end

local packed = {req[1], req[2], req[3]}
local tree_ttl = lease_ttl
for i = 1, n do
  local s = slots[i]
  local a = s.a
  -- the same window may sit on a path twice: both occurrences count, as in memory
  local st = cache[s.ck]
  for d = 1, 3 do
    st.r[d] = st.r[d] + req[d]
  end
  local want = now + s.wttl
  local at, ex = expiry_plan(s.key, st.ex, now, want, slack(s.wttl))
  if at then
    st.ex = fmt(ex)
    call('HSET', s.key, 'ri', fmt(st.r[1]), 'ro', fmt(st.r[2]), 'rt', fmt(st.r[3]), 'ex', st.ex)
    call('PEXPIREAT', s.key, fmt(at))
  elseif not st.ex then
    st.ex = fmt(ex)
    call('HSET', s.key, 'ri', fmt(st.r[1]), 'ro', fmt(st.r[2]), 'rt', fmt(st.r[3]), 'ex', st.ex)
  else
    call('HSET', s.key, 'ri', fmt(st.r[1]), 'ro', fmt(st.r[2]), 'rt', fmt(st.r[3]))
  end
  tree_ttl = max(tree_ttl, s.wttl)
  local p = #packed
  packed[p + 1] = ARGV[a + 1]
  packed[p + 2] = ARGV[a + 2]
  packed[p + 3] = s.bucket
  packed[p + 4] = s.count
  packed[p + 5] = want
  packed[p + 6] = s.lim[1]
  packed[p + 7] = s.lim[2]
  packed[p + 8] = s.lim[3]
  packed[p + 9] = ARGV[a + 12]
end
-- tree keys outlive the windows their leases charge, plus a day for a late sweep
local tree_want = now + tree_ttl + 86400000
local tree_at, tree_exp = expiry_plan(lkey, tree_ex, now, tree_want, slack(tree_ttl + 86400000))
if tree_at or not tree_ex then
  call('HSET', lkey, lease_id, cmsgpack.pack(packed), '!ex', fmt(tree_exp))
else
  call('HSET', lkey, lease_id, cmsgpack.pack(packed))
end
call('ZADD', xkey, fmt(now + lease_ttl), lease_id)
if tree_at then
  call('PEXPIREAT', lkey, fmt(tree_at))
end
if tree_at or xkey_renewed then
  -- :x lives as long as :l; it is created anew whenever its last lease leaves
  call('PEXPIREAT', xkey, fmt(tree_at or tree_exp))
end
return {gen, 1, -1, -1, states_upto(n), {}, expired}
