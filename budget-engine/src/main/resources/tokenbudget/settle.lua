-- tokenbudget settle / release: moves one lease from reserved to used at the actual amounts.
-- KEYS: 1 leases hash, 2 lease-expiry zset
-- ARGV: 1 lease id, 2 input, 3 output, 4 release (1) or settle (0), 5 expiry batch
-- Returns {gen, status (0 settled, 1 released, 2 unknown lease), crossings, expired leases}; an
-- empty list is false, a nil to the caller
return settle_cmd(ARGV, 0, tree_state(KEYS[1], KEYS[2]))
