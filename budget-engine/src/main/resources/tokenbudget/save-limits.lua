-- tokenbudget: save a run-time limit change of one budget window for every engine on this Redis.
-- KEYS[1]  <prefix>:limits  HASH  '<budget>/<window>' -> '<version>|<base i,o,t>|<limits i,o,t>'; '!v' = newest version
-- ARGV[1]  '<budget>/<window>'
-- ARGV[2]  base limits 'i,o,t' (-1 = none): the configured limits the change replaced
-- ARGV[3]  new limits 'i,o,t'
-- Returns the change's version. Version and value are written together, so a reader never sees one
-- without the other.
for _, arg in ipairs({ARGV[2], ARGV[3]}) do
  local n = 0
  for part in string.gmatch(arg, '[^,]+') do
    num(part, 'limit')
    n = n + 1
  end
  if n ~= 3 then
    error('tokenbudget: limits must be three numbers i,o,t, was ' .. tostring(arg))
  end
end
local v = redis.call('HINCRBY', KEYS[1], '!v', 1)
redis.call('HSET', KEYS[1], ARGV[1], fmt(v) .. '|' .. ARGV[2] .. '|' .. ARGV[3])
return v
