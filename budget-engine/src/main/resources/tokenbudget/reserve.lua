-- tokenbudget reserve: all or nothing over every window of a request's path, in one call,
-- cross-team allocation included (pool draws, holds, mirrors: docs/allocation.md).
-- KEYS: 1 leases hash, 2 lease-expiry zset, 3.. one window hash per slot (all in the tree's hash slot)
-- ARGV: 1 lease id, 2 lease ttl ms, 3 input, 4 output, 5 expiry batch, 6 engine time ms (holds),
--       7 lower output ceiling (-1 none: LowerCeiling), then per slot (SLOT_ARGS): budget, window key,
--       bucket, bucket count, window expiry (ms on the engine's clock, as argument 6: the window's
--       TTL is the difference), cap i, cap o, cap t, limit i, limit o, limit t, thresholds ("50,90,100"),
--       allocation ("" or "parent,overflow,cap i,cap o,cap t,pool,headroom i,headroom o,headroom t":
--       parent is the 1-based slot of the parent pool or 0, overflow and pool are 0/1, the caps those
--       of the overflow), config holds ("" or "id|for|i|o|t|until ms;..."),
--       degrade line ("" or "i,o,t": used + reserved at which the slot's budget degrades); -1 = none
-- Returns {gen, admitted 0/1, binding slot (0-based, -1), binding dim (0..2, -1),
--          states {ui uo ut ri ro rt per slot}, binding buckets (per bucket), expired leases,
--          cause (0 cap, 1 pool, 2 overflow cap, 3 hold; -1), room,
--          uses {slot (0-based), pooled i o t, held i o t per use}, output reserved (the command's on
--          a refusal), fitted 0/1 (admitted at the lower ceiling where the command's own was refused)};
--          an empty list (buckets, expired leases, uses) is false, a nil to the caller
local T = tree_state(KEYS[1], KEYS[2])
-- the numbers first, as they always came first: a bad one is named before a miscounted call
num(ARGV[2], 'lease ttl')
num(ARGV[3], 'input')
num(ARGV[4], 'output')
num(ARGV[5], 'expiry batch')
reserve_arity(#KEYS - 2, #ARGV)
return reserve_cmd(reserve_path(KEYS, 2, #KEYS - 2, ARGV, RESERVE_HEAD), ARGV, 0, T)
