-- tokenbudget ledger-append: records a change (a run-time limit change, an operator's note) in a
-- tree's ledger unless its idempotency key was recorded before.
-- KEYS: 1 ledger list, 2 ledger keys; ARGV: 1 the entry as JSON (numbers as strings), 2 ledger ttl ms
-- Returns {the entry as stored (JSON), new 0/1}
local text, new = ledger_append(KEYS[1], KEYS[2], max(1, num(ARGV[2], 'ledger ttl')), cjson.decode(ARGV[1]))
return {text, new and 1 or 0}
