-- tokenbudget rebalance: once per pool window instance, move part of under-used children's unused
-- allocation into the pool, and record each move in the ledger (docs/allocation.md).
-- KEYS: 1 ledger list, 2 ledger keys, 3 the pool window, 4.. the linked children's windows
-- ARGV: 1 engine time ms, 2 ledger ttl ms, 3 pool key (budget/window), 4 pool window key,
--       5 below %, 6 share %, 7 max %, 8 reason, 9 window ttl ms,
--       then per child: budget, limit i, limit o, limit t, cap i, cap o, cap t, window ttl ms
-- Returns {claimed 0/1, moves: one JSON ledger entry each}
local CHILD_ARGS = 8
local HEAD = 9
local gkey, kkey, pkey = KEYS[1], KEYS[2], KEYS[3]
local enow = num(ARGV[1], 'engine time')
local gttl = max(1, num(ARGV[2], 'ledger ttl'))
local below, share, most = num(ARGV[5], 'below'), num(ARGV[6], 'share'), num(ARGV[7], 'max')
local reason, ttl = ARGV[8], max(1, num(ARGV[9], 'window ttl'))
if #ARGV ~= HEAD + (#KEYS - 3) * CHILD_ARGS then
  error('tokenbudget: rebalance expects ' .. (HEAD + (#KEYS - 3) * CHILD_ARGS) .. ' arguments, got ' .. #ARGV)
end

-- floor(v * p / 100) without forming v * p, so that it is exact up to 2^53 (Percent.java)
local function percent(v, p)
  return floor(v / 100) * p + floor((v % 100) * p / 100)
end

local now = server_time()
local pool = window_state(pkey, 0, 1, false)
if call('HSETNX', pkey, 'rb', fmt(enow)) == 0 then
  return {0, {}}
end
keep_window(pkey, pool, now, ttl)
load_alloc(pkey, pool)
local moves = {}
for c = 4, #KEYS do
  local a = HEAD + (c - 4) * CHILD_ARGS
  local key, bid = KEYS[c], ARGV[a + 1]
  local lim = {num(ARGV[a + 2], 'limit'), num(ARGV[a + 3], 'limit'), num(ARGV[a + 4], 'limit')}
  local cap = {num(ARGV[a + 5], 'cap'), num(ARGV[a + 6], 'cap'), num(ARGV[a + 7], 'cap')}
  local st = window_state(key, 0, 1, false)
  load_alloc(key, st)
  local give, facts, any = {0, 0, 0}, '', false
  for d = 1, 3 do
    local committed = st.u[d] + st.r[d]
    if lim[d] ~= -1 and cap[d] ~= -1 and committed < percent(lim[d], below) then
      local unused = max(0, cap[d] - st.g[d] - committed)
      give[d] = min(percent(unused, share), max(0, percent(lim[d], most) - st.g[d]))
      if give[d] > 0 then
        any = true
        facts = facts .. '; ' .. LABEL[d] .. ': ' .. fmt(committed) .. ' of ' .. fmt(lim[d])
          .. ' used or reserved, ' .. fmt(unused) .. ' unused'
      end
    end
  end
  if any then
    local gset, cset, before, after = {}, {}, {}, {}
    for d = 1, 3 do
      if give[d] > 0 then
        before[LABEL[d]] = fmt(lim[d] - st.g[d])
        st.g[d] = st.g[d] + give[d]
        after[LABEL[d]] = fmt(lim[d] - st.g[d])
        pool.c[d] = pool.c[d] + give[d]
        gset[#gset + 1] = 'g' .. DIM[d]
        gset[#gset + 1] = fmt(st.g[d])
        cset[#cset + 1] = 'c' .. DIM[d]
        cset[#cset + 1] = fmt(pool.c[d])
      end
    end
    call('HSET', key, unpack(gset))
    keep_window(key, st, now, max(1, num(ARGV[a + 8], 'window ttl')))
    call('HSET', pkey, unpack(cset))
    moves[#moves + 1] = ledger_append(gkey, kkey, gttl, {at = fmt(enow), kind = 'REBALANCE', budget = bid,
      window = ARGV[4], before = before, after = after, actor = 'rebalance', reason = reason .. facts,
      key = 'rebalance:' .. ARGV[3] .. ':' .. bid})
  end
end
return {1, moves}
