-- tokenbudget ledger: entries of a tree's ledger after a sequence number; changes nothing.
-- KEYS: 1 ledger list; ARGV: 1 after seq, 2 max entries
-- Returns {last seq, JSON entry, ...} oldest first
local after, max = num(ARGV[1], 'after'), num(ARGV[2], 'max')
local out = {call('LLEN', KEYS[1])}
if max > 0 then
  for _, e in ipairs(call('LRANGE', KEYS[1], fmt(after), fmt(after + max - 1))) do
    out[#out + 1] = e
  end
end
return out
