-- tokenbudget read: used and reserved tokens of windows, for status; changes nothing.
-- KEYS: one window hash per slot; ARGV: per slot bucket, bucket count
-- Returns {ui uo ut ri ro rt per slot}
local flat = {}
for i = 1, #KEYS do
  local st = window_state(KEYS[i], num(ARGV[2 * i - 1], 'bucket'), num(ARGV[2 * i], 'bucket count'))
  for d = 1, 3 do
    flat[#flat + 1] = st.u[d]
  end
  for d = 1, 3 do
    flat[#flat + 1] = st.r[d]
  end
end
return flat
