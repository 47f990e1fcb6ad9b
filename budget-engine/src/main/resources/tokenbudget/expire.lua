-- tokenbudget expire: charges a tree's leases that ran out unsettled at their reserved amounts.
-- KEYS: 1 leases hash, 2 lease-expiry zset; ARGV: 1 batch size
-- Returns {gen, expired leases, leases still waiting}
local lkey, xkey = KEYS[1], KEYS[2]
local batch = num(ARGV[1], 'expiry batch')
local expired = expire_due(lkey, xkey, server_time(), batch)
return {call('HGET', lkey, '!gen') or '', expired, call('ZCARD', xkey)}
