-- tokenbudget allocation: a pool window and its linked children, for status; changes nothing.
-- KEYS: 1 the pool window, 2.. the children's windows; ARGV: 1 engine time ms
-- Returns {ci co ct pi po pt, rebalanced 0/1, {gi go gt di do dt per child},
--          {id, for, i, o, t, until per run-time hold in force}}
local enow = num(ARGV[1], 'engine time')
local pool = window_state(KEYS[1], 0, 1, false)
load_alloc(KEYS[1], pool)
load_holds(KEYS[1], pool)
local kids = {}
for c = 2, #KEYS do
  local st = {}
  load_alloc(KEYS[c], st)
  for _, v in ipairs({st.g[1], st.g[2], st.g[3], st.dr[1], st.dr[2], st.dr[3]}) do
    kids[#kids + 1] = v
  end
end
local holds = {}
for _, h in ipairs(pool.holds) do
  if h.untl > enow then
    for _, v in ipairs({h.id, h.fb or '', h.t[1], h.t[2], h.t[3], h.untl}) do
      holds[#holds + 1] = v
    end
  end
end
local rb = call('HEXISTS', KEYS[1], 'rb')
return {pool.c[1], pool.c[2], pool.c[3], pool.p[1], pool.p[2], pool.p[3], rb, kids, holds}
