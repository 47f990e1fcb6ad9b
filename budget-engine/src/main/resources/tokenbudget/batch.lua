-- tokenbudget batch: several reserves and settles of one tree in one call (group commit), applied
-- in order, each all or nothing as reserve.lua and settle.lua apply it alone, each with its own
-- reply. The fixed costs are paid once: TIME, the tree's generation, lease expiry in passing, each
-- path's settings (sent and parsed once however many reserves share them), and each window is
-- read once and written once (the write-back cache in common.lua).
-- KEYS: 1 leases hash, 2 lease-expiry zset, 3.. the window keys of the paths, in order
-- ARGV: 1 expiry batch (for the whole call), 2 path count, then per path: slot count n and
--       n * SLOT_ARGS slot arguments (as reserve.lua takes them); then per command either
--         'r', path (1-based), then the RESERVE_HEAD arguments of reserve.lua, or
--         's', then the 5 arguments of settle.lua
-- Returns one reply per command, in order: reserve.lua's or settle.lua's reply, or
-- {'!err', message} for a command that failed (bad arguments, its path's included); the others are
-- applied regardless.
local T = tree_state(KEYS[1], KEYS[2])
T.batch = num(ARGV[1], 'expiry batch')
-- the layout first: a malformed call must fail before anything is written
local npaths = num(ARGV[2], 'path count')
local at, k = 3, 3
local paths = {}
for p = 1, npaths do
  local n = num(ARGV[at], 'slot count')
  paths[p] = {k0 = k - 1, n = n, a0 = at}
  at, k = at + 1 + n * SLOT_ARGS, k + n
end
if k ~= #KEYS + 1 then
  error('tokenbudget: batch keys do not match its paths')
end
local cmds = at
while at <= #ARGV do
  if ARGV[at] == 'r' then
    local p = num(ARGV[at + 1], 'path')
    if not paths[p] then
      error('tokenbudget: batch command at argument ' .. at .. ' names path ' .. p .. ' of ' .. npaths)
    end
    at = at + 2 + RESERVE_HEAD
  elseif ARGV[at] == 's' then
    at = at + 6
  else
    error('tokenbudget: batch command at argument ' .. at .. ' is ' .. tostring(ARGV[at]) .. ', not r or s')
  end
end
if at ~= #ARGV + 1 then
  error('tokenbudget: batch arguments do not match their commands')
end
local function message(e)
  if type(e) == 'table' then
    return tostring(e.err or e.message or e[1])
  end
  return tostring(e)
end
-- each path's settings once; a path whose arguments are refused fails the commands that name it
for _, p in ipairs(paths) do
  local ok, parsed = pcall(reserve_path, KEYS, p.k0, p.n, ARGV, p.a0)
  if ok then
    p.parsed = parsed
  else
    p.err = message(parsed)
  end
end
WB = {}
local replies = {}
at = cmds
while at <= #ARGV do
  local ok, reply
  if ARGV[at] == 'r' then
    local p = paths[num(ARGV[at + 1], 'path')]
    if p.parsed then
      ok, reply = pcall(reserve_cmd, p.parsed, ARGV, at + 1, T)
    else
      ok, reply = false, p.err
    end
    at = at + 2 + RESERVE_HEAD
  else
    ok, reply = pcall(settle_cmd, ARGV, at, T)
    at = at + 6
  end
  replies[#replies + 1] = ok and reply or {'!err', message(reply)}
end
wb_flush_all()
return replies
