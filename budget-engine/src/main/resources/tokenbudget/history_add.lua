-- tokenbudget usage history: add hourly input/output tokens to one budget's history hash and
-- forget hours older than the retention (amortised: a few HDELs per hour that passes).
-- KEYS: 1 the budget's history hash
-- ARGV: 1 ttl ms, 2 retention in hours, then pairs: hour index, "input:output"
local key = KEYS[1]
local keep = tonumber(ARGV[2])
local newest = nil
for i = 3, #ARGV, 2 do
  local hour = tonumber(ARGV[i])
  local sep = string.find(ARGV[i + 1], ':', 1, true)
  local input = tonumber(string.sub(ARGV[i + 1], 1, sep - 1))
  local output = tonumber(string.sub(ARGV[i + 1], sep + 1))
  if input > 0 then redis.call('HINCRBY', key, hour .. ':i', input) end
  if output > 0 then redis.call('HINCRBY', key, hour .. ':o', output) end
  if newest == nil or hour > newest then newest = hour end
end
if newest ~= nil then
  local lo = tonumber(redis.call('HGET', key, 'lo'))
  if lo == nil then
    redis.call('HSET', key, 'lo', newest)
  elseif newest - lo > keep then
    local upto = newest - keep
    for h = lo, math.min(upto, lo + 500) - 1 do
      redis.call('HDEL', key, h .. ':i', h .. ':o')
    end
    redis.call('HSET', key, 'lo', math.min(upto, lo + 500))
  end
end
redis.call('PEXPIRE', key, ARGV[1])
return 1
