-- tokenbudget ledger: entries of a tree's ledger after a sequence number; changes nothing.
-- KEYS: 1 ledger list; ARGV: 1 after seq, 2 max entries
-- Returns {JSON entry, ...} oldest first
local after, max = num(ARGV[1], 'after'), num(ARGV[2], 'max')
if max <= 0 then
  return {}
end
return redis.call('LRANGE', KEYS[1], fmt(after), fmt(after + max - 1))
