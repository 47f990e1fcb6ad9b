-- tokenbudget rebalance: once per pool window instance, move part of under-used children's unused
-- allocation into the pool, and record each move in the ledger (docs/allocation.md).
-- KEYS: 1 ledger list, 2 the pool window, 3.. the linked children's windows
-- ARGV: 1 engine time ms, 2 tree, 3 pool budget, 4 pool window key, 5 pool key (budget/window),
--       6 below %, 7 share %, 8 max %, 9 reason, 10 window ttl ms,
--       then per child: budget, limit i, limit o, limit t, cap i, cap o, cap t, window ttl ms
-- Returns {claimed 0/1, moves: one JSON ledger entry each}
local CHILD_ARGS = 8
local gkey, pkey = KEYS[1], KEYS[2]
local enow = num(ARGV[1], 'engine time')
local below, share, most = num(ARGV[6], 'below'), num(ARGV[7], 'share'), num(ARGV[8], 'max')
local reason, ttl = ARGV[9], math.max(1, num(ARGV[10], 'window ttl'))
if #ARGV ~= 10 + (#KEYS - 2) * CHILD_ARGS then
  error('tokenbudget: rebalance expects ' .. (10 + (#KEYS - 2) * CHILD_ARGS) .. ' arguments, got ' .. #ARGV)
end

-- floor(v * p / 100) without forming v * p, so that it is exact up to 2^53 (Percent.java)
local function percent(v, p)
  return math.floor(v / 100) * p + math.floor((v % 100) * p / 100)
end

if redis.call('HSETNX', pkey, 'rb', fmt(enow)) == 0 then
  return {0, {}}
end
keep_for(pkey, ttl)
local pool = window_state(pkey, 0, 1)
load_alloc(pkey, pool)
local moves = {}
for c = 3, #KEYS do
  local a = 10 + (c - 3) * CHILD_ARGS
  local key, bid = KEYS[c], ARGV[a + 1]
  local lim = {num(ARGV[a + 2], 'limit'), num(ARGV[a + 3], 'limit'), num(ARGV[a + 4], 'limit')}
  local cap = {num(ARGV[a + 5], 'cap'), num(ARGV[a + 6], 'cap'), num(ARGV[a + 7], 'cap')}
  local st = window_state(key, 0, 1)
  load_alloc(key, st)
  local give, facts, any = {0, 0, 0}, '', false
  for d = 1, 3 do
    local committed = st.u[d] + st.r[d]
    if lim[d] ~= -1 and cap[d] ~= -1 and committed < percent(lim[d], below) then
      local unused = math.max(0, cap[d] - st.g[d] - committed)
      give[d] = math.min(percent(unused, share), math.max(0, percent(lim[d], most) - st.g[d]))
      if give[d] > 0 then
        any = true
        facts = facts .. '; ' .. LABEL[d] .. ': ' .. fmt(committed) .. ' of ' .. fmt(lim[d])
          .. ' used or reserved, ' .. fmt(unused) .. ' unused'
      end
    end
  end
  if any then
    local gset, cset = {}, {}
    for d = 1, 3 do
      if give[d] > 0 then
        st.g[d] = st.g[d] + give[d]
        pool.c[d] = pool.c[d] + give[d]
        gset[#gset + 1] = 'g' .. DIM[d]
        gset[#gset + 1] = fmt(st.g[d])
        cset[#cset + 1] = 'c' .. DIM[d]
        cset[#cset + 1] = fmt(pool.c[d])
      end
    end
    redis.call('HSET', key, unpack(gset))
    keep_for(key, math.max(1, num(ARGV[a + 8], 'window ttl')))
    redis.call('HSET', pkey, unpack(cset))
    moves[#moves + 1] = cjson.encode(ledger_append(gkey, ttl, {tree = ARGV[2], at = fmt(enow), kind = 'REBALANCE',
      from = bid, to = ARGV[3], window = ARGV[4], i = fmt(give[1]), o = fmt(give[2]), t = fmt(give[3]),
      actor = 'rebalance', reason = reason .. facts, ref = ARGV[5]}))
  end
end
return {1, moves}
