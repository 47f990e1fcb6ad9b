-- tokenbudget settle / release: moves one lease from reserved to used at the actual amounts.
-- KEYS: 1 leases hash, 2 lease-expiry zset
-- ARGV: 1 lease id, 2 input, 3 output, 4 release (1) or settle (0), 5 expiry batch
-- Returns {gen, status (0 settled, 1 released, 2 unknown lease), crossings, expired leases}
local lkey, xkey = KEYS[1], KEYS[2]
local lease_id = ARGV[1]
local release = ARGV[4] == '1'
local a = {num(ARGV[2], 'input'), num(ARGV[3], 'output')}
a[3] = a[1] + a[2]
if a[1] < 0 or a[2] < 0 or a[3] > MAX then
  error('tokenbudget: input and output must be >= 0 and at most 2^53-1 together')
end
if release then
  a = {0, 0, 0}
end
local now = server_time()
-- expiry first: a lease that ran out before its settle arrived is charged at its reservation
local expired = expire_in_passing(lkey, xkey, now, num(ARGV[5], 'expiry batch'))
local got = call('HMGET', lkey, '!gen', lease_id)
local gen, packed = got[1] or '', got[2]
if not packed then
  return {gen, 2, {}, expired}
end
call('HDEL', lkey, lease_id)
call('ZREM', xkey, lease_id)
local c = apply_lease(lkey, cmsgpack.unpack(packed), a, now)
return {gen, release and 1 or 0, c, expired}
