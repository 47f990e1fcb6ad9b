-- tokenbudget hold: create or delete a run-time hold on one calendar window instance, and record
-- it in the ledger, atomically (docs/allocation.md).
-- KEYS: 1 ledger list, 2 ledger keys, 3 the holding window
-- ARGV: 1 engine time ms, 2 ledger ttl ms, 3 'create' or 'delete', 4 hold id, 5 for ("" for none),
--       6 i, 7 o, 8 t, 9 until ms, 10 holding budget, 11 window key, 12 actor, 13 reason, 14 window ttl ms
-- Returns {changed 0/1, ledger entry (JSON) or ''}
local gkey, kkey, wkey = KEYS[1], KEYS[2], KEYS[3]
local enow = num(ARGV[1], 'engine time')
local gttl = max(1, num(ARGV[2], 'ledger ttl'))
local create = ARGV[3] == 'create'
local field = 'h:' .. ARGV[4]
local hold
if create then
  if call('HEXISTS', wkey, field) == 1 then
    return {0, ''}
  end
  hold = ARGV[5] .. '|' .. fmt(num(ARGV[6], 'tokens')) .. '|' .. fmt(num(ARGV[7], 'tokens')) .. '|'
    .. fmt(num(ARGV[8], 'tokens')) .. '|' .. fmt(num(ARGV[9], 'until'))
  local st = window_state(wkey, 0, 1, false)
  call('HSET', wkey, field, hold)
  call('HINCRBY', wkey, 'hn', 1)
  keep_window(wkey, st, server_time(), max(1, num(ARGV[14], 'window ttl')))
else
  hold = call('HGET', wkey, field)
  if not hold then
    return {0, ''}
  end
  call('HDEL', wkey, field)
  call('HINCRBY', wkey, 'hn', -1)
end
local h = parse_hold(ARGV[4], hold)
local held = {}
for d = 1, 3 do
  if h.t[d] > 0 then
    held[LABEL[d]] = fmt(h.t[d])
  end
end
local e = ledger_append(gkey, kkey, gttl, {at = fmt(enow), kind = create and 'RESERVATION_CREATED'
  or 'RESERVATION_CANCELLED', budget = h.fb or ARGV[10], window = ARGV[11], before = create and {} or held,
  after = create and held or {}, actor = ARGV[12], reason = ARGV[13],
  key = 'reservation:' .. ARGV[4] .. (create and ':created' or ':cancelled')})
return {1, e}
