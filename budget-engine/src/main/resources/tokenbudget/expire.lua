-- tokenbudget expire: charges a tree's leases that ran out unsettled at their reserved amounts.
-- KEYS: 1 leases hash, 2 lease-expiry zset; ARGV: 1 batch size
-- Returns {gen, expired leases, leases still waiting}
local lkey, xkey = KEYS[1], KEYS[2]
local expired = expire_due(lkey, xkey, server_ms(), num(ARGV[1], 'expiry batch'))
return {tree_gen(lkey, false), expired, redis.call('ZCARD', xkey)}
