-- tokenbudget hold: create or delete a run-time hold on one calendar window instance, and record
-- it in the ledger, atomically (docs/allocation.md).
-- KEYS: 1 ledger list, 2 the holding window
-- ARGV: 1 engine time ms, 2 'create' or 'delete', 3 hold id, 4 for ("" for none), 5 i, 6 o, 7 t,
--       8 until ms, 9 tree, 10 budget, 11 window key, 12 actor, 13 reason, 14 window ttl ms
-- Returns {changed 0/1, ledger entry (JSON) or ''}
local gkey, wkey = KEYS[1], KEYS[2]
local enow = num(ARGV[1], 'engine time')
local field = 'h:' .. ARGV[3]
local ttl = math.max(1, num(ARGV[14], 'window ttl'))
local hold
if ARGV[2] == 'create' then
  if redis.call('HEXISTS', wkey, field) == 1 then
    return {0, ''}
  end
  hold = ARGV[4] .. '|' .. fmt(num(ARGV[5], 'tokens')) .. '|' .. fmt(num(ARGV[6], 'tokens')) .. '|'
    .. fmt(num(ARGV[7], 'tokens')) .. '|' .. fmt(num(ARGV[8], 'until'))
  redis.call('HSET', wkey, field, hold)
  redis.call('HINCRBY', wkey, 'hn', 1)
  keep_for(wkey, ttl)
else
  hold = redis.call('HGET', wkey, field)
  if not hold then
    return {0, ''}
  end
  redis.call('HDEL', wkey, field)
  redis.call('HINCRBY', wkey, 'hn', -1)
end
local h = parse_hold(ARGV[3], hold)
local e = ledger_append(gkey, ttl, {tree = ARGV[9], at = fmt(enow),
  kind = ARGV[2] == 'create' and 'HOLD_CREATED' or 'HOLD_DELETED', from = ARGV[10], to = h.fb or '',
  window = ARGV[11], i = fmt(h.t[1]), o = fmt(h.t[2]), t = fmt(h.t[3]), actor = ARGV[12], reason = ARGV[13],
  ref = ARGV[3]})
return {1, cjson.encode(e)}
