-- tokenbudget: windows (state, rolling buckets, usage, thresholds); RedisScripts puts this file
-- after common.lua in front of each script.

-- Adds to `vals` the rolling-window bucket fields from..to (all three dimensions), in order.
local function bucket_fields(vals, from, to)
  for b = from, to do
    local s = fmt(b)
    vals[#vals + 1] = 'i' .. s
    vals[#vals + 1] = 'o' .. s
    vals[#vals + 1] = 't' .. s
  end
end

-- Rolling window stored before the running sums existed: sum its buckets once.
local function legacy_sums(key)
  local tot = {0, 0, 0}
  wb_flush(key)
  local all = call('HGETALL', key)
  for j = 1, #all, 2 do
    local f = all[j]
    for d = 1, 3 do
      if string.sub(f, 1, 1) == DIM[d] and tonumber(string.sub(f, 2)) then
        tot[d] = tot[d] + tonumber(all[j + 1])
      end
    end
  end
  return tot
end

-- The fields every decision reads of a calendar and of a rolling window.
local CAL_FIELDS = {'i0', 'o0', 't0', 'ri', 'ro', 'rt', 'fl', 'fp', 'ex', 'hn'}
local ROLL_FIELDS = {'ui', 'uo', 'ut', 'ri', 'ro', 'rt', 'fl', 'fp', 'ex', 'hb'}

-- The field names of rolling-window bucket b, {i<b>, o<b>, t<b>}: built once per call.
local BUCKET_NAMES = {}
local function bucket_names(b)
  local n = BUCKET_NAMES[b]
  if not n then
    local s = fmt(b)
    n = {'i' .. s, 'o' .. s, 't' .. s}
    BUCKET_NAMES[b] = n
  end
  return n
end

-- Fields `list` of window `key` (and the three of bucket `b` unless nil), as a table name ->
-- value (field_value), false for a missing one. In a batch that table is the write-back cache's
-- own, loaded by one HMGET the first time a list is asked for, so later commands read it without
-- building lists, parsing numbers or calling Redis (what they write there are numbers too);
-- alone, one HMGET.
local function window_fields(key, list, b)
  local bn = b and bucket_names(b)
  if not WB then
    local names = {unpack(list)}
    if bn then
      names[#names + 1], names[#names + 2], names[#names + 3] = bn[1], bn[2], bn[3]
    end
    local v = call('HMGET', key, unpack(names))
    local f = {}
    for j = 1, #names do
      f[names[j]] = field_value(names[j], v[j])
    end
    return f
  end
  local c = WB[key] or wb_entry(key)
  local f = c.f
  if not c[list] or (bn and (f[bn[1]] == nil or f[bn[2]] == nil or f[bn[3]] == nil)) then
    local miss = {}
    for j = 1, #list do
      if f[list[j]] == nil then
        miss[#miss + 1] = list[j]
      end
    end
    if bn then
      for d = 1, 3 do
        if f[bn[d]] == nil then
          miss[#miss + 1] = bn[d]
        end
      end
    end
    if #miss > 0 then
      local got = call('HMGET', key, unpack(miss))
      for j = 1, #miss do
        f[miss[j]] = field_value(miss[j], got[j])
      end
    end
    c[list] = true
  end
  return f
end

-- One window as the scripts see it: used (summed over buckets bucket-count+1 .. bucket, as the
-- caller's clock sees the window) and reserved per dimension, the fired-threshold state fl/fp and
-- the recorded expiry ex. For a rolling window also: hb (the newest bucket), tot (the stored sum
-- of buckets hb-count+1 .. hb), and, when `with_bucket`, cur (the caller's bucket) and gone (the
-- buckets that roll off if hb advances to `bucket`). A rolling window reads one HMGET; only a
-- caller in another bucket than hb reads the few buckets in between.
local function window_state(key, bucket, count, with_bucket)
  if count <= 1 then
    local f = window_fields(key, CAL_FIELDS)
    return {u = {f.i0 or 0, f.o0 or 0, f.t0 or 0}, r = {f.ri or 0, f.ro or 0, f.rt or 0}, fl = f.fl, fp = f.fp,
      ex = f.ex or nil, hn = f.hn or 0}
  end
  local f = window_fields(key, ROLL_FIELDS, with_bucket and bucket or nil)
  local st = {r = {f.ri or 0, f.ro or 0, f.rt or 0}, fl = f.fl, fp = f.fp, ex = f.ex or nil, hb = f.hb or nil}
  if with_bucket then
    local bn = bucket_names(bucket)
    st.cur = {f[bn[1]] or 0, f[bn[2]] or 0, f[bn[3]] or 0}
  else
    st.cur = ZERO3
  end
  if not st.hb then
    st.tot, st.u, st.gone = {0, 0, 0}, {0, 0, 0}, {}
    return st
  end
  if f.ut then
    st.tot = {f.ui or 0, f.uo or 0, f.ut}
  else
    st.tot = legacy_sums(key)
  end
  -- live buckets are hb-count+1 .. hb; the caller counts bucket-count+1 .. bucket
  local hb = st.hb
  st.u = {st.tot[1], st.tot[2], st.tot[3]}
  st.gone = {}
  if bucket >= hb + count then
    -- every live bucket rolls off
    st.u = {0, 0, 0}
    bucket_fields(st.gone, hb - count + 1, hb)
  elseif bucket <= hb - count then
    -- the caller's clock is a whole window behind: none of the live buckets is in its window
    st.u = {0, 0, 0}
  elseif bucket ~= hb then
    local from, to
    if bucket > hb then
      from, to = hb - count + 1, bucket - count
    else
      from, to = bucket + 1, hb
    end
    local fields = {}
    bucket_fields(fields, from, to)
    local got = hmget(key, unpack(fields))
    for j = 1, #fields do
      local x = tonumber(got[j])
      if x then
        local d = (j - 1) % 3 + 1
        st.u[d] = max(0, st.u[d] - x)
        if bucket > hb then
          st.gone[#st.gone + 1] = fields[j]
        end
      end
    end
  end
  return st
end

-- Per-bucket usage of one dimension over a rolling window, oldest bucket first.
local function bucket_history(key, bucket, count, d)
  local fields = {}
  for b = bucket - count + 1, bucket do
    fields[#fields + 1] = DIM[d] .. fmt(b)
  end
  local got = hmget(key, unpack(fields))
  local out = {}
  for j = 1, count do
    out[j] = tonumber(got[j]) or 0
  end
  return out
end

-- Adds settled tokens a = {i, o, t} to bucket b of window st, writing the changed fields into
-- `set`; usage for a bucket that already rolled off is outside the window and dropped.
local function add_used(key, st, bucket, count, a, set)
  if count <= 1 then
    for d = 1, 3 do
      if a[d] ~= 0 then
        set[#set + 1] = B0[d]
        set[#set + 1] = min(MAX, st.u[d] + a[d])
        st.u[d] = st.u[d] + a[d]
      end
    end
    return
  end
  if st.hb and bucket <= st.hb - count then
    return
  end
  local tot = st.tot
  if not st.hb or bucket > st.hb then
    set[#set + 1] = 'hb'
    set[#set + 1] = bucket
    if #st.gone > 0 then
      hdel(key, st.gone)
    end
    -- the sum of what stays is what the caller's bucket sees
    tot = {st.u[1], st.u[2], st.u[3]}
  end
  local bn = bucket_names(bucket)
  for d = 1, 3 do
    if a[d] ~= 0 then
      set[#set + 1] = bn[d]
      set[#set + 1] = min(MAX, st.cur[d] + a[d])
      tot[d] = min(MAX, tot[d] + a[d])
      st.u[d] = st.u[d] + a[d]
    end
  end
  for d = 1, 3 do
    set[#set + 1] = UF[d]
    set[#set + 1] = tot[d]
  end
end

-- The lowest threshold of a list ("50,90,100"), the first; math.huge for none. Parsed once per call.
local LOWEST = {}
local function lowest(th)
  local p = LOWEST[th]
  if not p then
    p = tonumber(string.match(th, '%d+')) or math.huge
    LOWEST[th] = p
  end
  return p
end

-- Thresholds of slot s reached for the first time in this window and limit (st holds its usage
-- after the settlement); a rolling window re-arms a threshold once usage has rolled off below
-- it. Appends crossings to `out` and the changed state to `set`.
local function crossings(s, st, out, set)
  local used = st.u
  local pct = 0
  for d = 1, 3 do
    if s.lim[d] ~= -1 then
      pct = max(pct, used[d] * 100 / s.lim[d])
    end
  end
  local fired = st.fp
  -- the common case: nothing fired in this window and usage is below the lowest threshold
  if (not fired or fired == ',') and pct < lowest(s.th) then
    return
  end
  local want = fmt(s.lim[1]) .. ',' .. fmt(s.lim[2]) .. ',' .. fmt(s.lim[3])
  local changed = st.fl ~= want
  if changed or not fired then
    fired = ','
  end
  for p in string.gmatch(s.th, '%d+') do
    local pn = tonumber(p)
    local mark = ',' .. p .. ','
    local has = string.find(fired, mark, 1, true)
    if pct >= pn and not has then
      fired = fired .. p .. ','
      changed = true
      out[#out + 1] = {s.bid, s.wk, pn, used[1], used[2], used[3], s.lim[1], s.lim[2], s.lim[3]}
    elseif pct < pn and has and s.count > 1 then
      fired = string.gsub(fired, mark, ',', 1)
      changed = true
    end
  end
  if changed then
    set[#set + 1] = 'fl'
    set[#set + 1] = want
    set[#set + 1] = 'fp'
    set[#set + 1] = fired
  end
end

