-- tokenbudget settle / release, as a function: settle_cmd(A, T) settles one command, A being the
-- ARGV that settle.lua takes (header there) and T the tree's batch state (tree_ready in
-- common.lua). Used by settle.lua (one command) and batch.lua (several).
local function settle_cmd(A, T)
  local lkey, xkey = T.lkey, T.xkey
  local lease_id = A[1]
  local release = A[4] == '1'
  local a = {num(A[2], 'input'), num(A[3], 'output')}
  a[3] = a[1] + a[2]
  if a[1] < 0 or a[2] < 0 or a[3] > MAX then
    error('tokenbudget: input and output must be >= 0 and at most 2^53-1 together')
  end
  if release then
    a = {0, 0, 0}
  end
  -- expiry first: a lease that ran out before its settle arrived is charged at its reservation
  tree_ready(T, num(A[5], 'expiry batch'))
  local packed = call('HGET', lkey, lease_id)
  if not packed then
    return {T.gen or '', 2, {}, take_expired(T)}
  end
  call('HDEL', lkey, lease_id)
  call('ZREM', xkey, lease_id)
  -- that may have been :x's last lease: a reserve after it in the same batch gives :x its TTL back
  T.xr = true
  local c = apply_lease(lkey, cmsgpack.unpack(packed), a, T.now)
  return {T.gen or '', release and 1 or 0, c, take_expired(T)}
end
