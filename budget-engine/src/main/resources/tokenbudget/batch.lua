-- tokenbudget batch: several reserves and settles of one tree in one call (group commit), applied
-- in order, each all or nothing as reserve.lua and settle.lua apply it alone, each with its own
-- reply. The fixed costs are paid once: TIME, the tree's generation, lease expiry in passing, and
-- each window is read once and written once (the write-back cache in common.lua).
-- KEYS: 1 leases hash, 2 lease-expiry zset, 3.. the window keys of the reserves, in order
-- ARGV: 1 expiry batch (for the whole call), then per command either
--         'r', slot count n, then the RESERVE_HEAD + n * SLOT_ARGS arguments of reserve.lua, or
--         's', then the 5 arguments of settle.lua
-- Returns one reply per command, in order: reserve.lua's or settle.lua's reply, or
-- {'!err', message} for a command that failed (bad arguments); the others are applied regardless.
local T = tree_state(KEYS[1], KEYS[2])
T.batch = num(ARGV[1], 'expiry batch')
-- the layout first: a malformed call must fail before anything is written
local at, k = 2, 3
while at <= #ARGV do
  if ARGV[at] == 'r' then
    local n = num(ARGV[at + 1], 'slot count')
    at, k = at + 2 + RESERVE_HEAD + n * SLOT_ARGS, k + n
  elseif ARGV[at] == 's' then
    at = at + 6
  else
    error('tokenbudget: batch command at argument ' .. at .. ' is ' .. tostring(ARGV[at]) .. ', not r or s')
  end
end
if at ~= #ARGV + 1 or k ~= #KEYS + 1 then
  error('tokenbudget: batch arguments and keys do not match their commands')
end
WB = {}
local replies = {}
at, k = 2, 3
local function message(e)
  if type(e) == 'table' then
    return tostring(e.err or e.message or e[1])
  end
  return tostring(e)
end
while at <= #ARGV do
  local kind = ARGV[at]
  local ok, reply
  if kind == 'r' then
    local n = num(ARGV[at + 1], 'slot count')
    ok, reply = pcall(reserve_cmd, KEYS, k - 1, n, ARGV, at + 1, T)
    k = k + n
    at = at + 2 + RESERVE_HEAD + n * SLOT_ARGS
  else
    ok, reply = pcall(settle_cmd, ARGV, at, T)
    at = at + 6
  end
  replies[#replies + 1] = ok and reply or {'!err', message(reply)}
end
wb_flush_all()
return replies
