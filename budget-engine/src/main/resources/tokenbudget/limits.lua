-- tokenbudget: the limit changes saved on this Redis, when any is newer than what the caller knows.
-- KEYS[1]  <prefix>:limits  (see save-limits.lua)
-- ARGV[1]  the newest version the caller has applied
-- Returns {version} when nothing is newer, else {version, field1, value1, field2, value2, ...}.
local v = tonumber(redis.call('HGET', KEYS[1], '!v') or '0')
if v <= num(ARGV[1], 'known version') then
  return {v}
end
local out = {v}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if all[i] ~= '!v' then
    out[#out + 1] = all[i]
    out[#out + 1] = all[i + 1]
  end
end
return out
