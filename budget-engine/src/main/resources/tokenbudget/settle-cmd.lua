-- tokenbudget settle / release, as a function: settle_cmd(A, a0, T) settles one command, whose
-- arguments, as settle.lua takes them (header there), are A[a0 + 1 .. a0 + 5]; T is the tree's
-- batch state (tree_ready in common.lua). Used by settle.lua (one command) and batch.lua (several).
local function settle_cmd(A, a0, T)
  local lkey, xkey = T.lkey, T.xkey
  local lease_id = A[a0 + 1]
  local release = A[a0 + 4] == '1'
  local a = {num(A[a0 + 2], 'input'), num(A[a0 + 3], 'output')}
  a[3] = a[1] + a[2]
  if a[1] < 0 or a[2] < 0 or a[3] > MAX then
    error('tokenbudget: input and output must be >= 0 and at most 2^53-1 together')
  end
  if release then
    a = {0, 0, 0}
  end
  -- expiry first: a lease that ran out before its settle arrived is charged at its reservation
  tree_ready(T, num(A[a0 + 5], 'expiry batch'))
  local packed = call('HGET', lkey, lease_id)
  if not packed then
    return {T.gen or '', 2, false, take_expired(T)}
  end
  call('HDEL', lkey, lease_id)
  call('ZREM', xkey, lease_id)
  -- that may have been :x's last lease: a reserve after it in the same batch gives :x its TTL back
  T.xr = true
  local c = apply_lease(lkey, cmsgpack.unpack(packed), a, T.now)
  return {T.gen or '', release and 1 or 0, #c > 0 and c, take_expired(T)}
end
