-- Redis's side of `redlet-bench flat`: the same batches against a collection in KEYS[1], timed inside the
-- server (TIME) so neither the network nor the client counts. bench/run.py loads it.
-- ARGV: operation, collection size, batch size, operations to time.
-- Returns {microseconds in the timed batches, microseconds in the same loop around EXISTS, operations}.
local op, n, b, total = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local function now() local t = redis.call('TIME'); return tonumber(t[1]) * 1000000 + tonumber(t[2]) end
local spent, base, done, seq = 0, 0, 0, 0
while done < total do
  local names = {}
  for i = 1, b do seq = seq + 1; names[i] = 'new:' .. seq end
  local t0 = now()
  if op == 'ZADD' then for i = 1, b do redis.call('ZADD', KEYS[1], math.random(0, 999999999), names[i]) end
  elseif op == 'ZRANK' then for i = 1, b do redis.call('ZRANK', KEYS[1], 'member:' .. math.random(0, n - 1)) end
  elseif op == 'SADD' then for i = 1, b do redis.call('SADD', KEYS[1], names[i]) end
  elseif op == 'HSET' then for i = 1, b do redis.call('HSET', KEYS[1], names[i], 'value:0000000000') end
  else for i = 1, b do redis.call('LPUSH', KEYS[1], 'value:0000000000') end end
  local t1 = now()
  for i = 1, b do redis.call('EXISTS', names[i]) end
  local t2 = now()
  spent = spent + (t1 - t0); base = base + (t2 - t1)
  if op == 'ZADD' then redis.call('ZREM', KEYS[1], unpack(names))
  elseif op == 'SADD' then redis.call('SREM', KEYS[1], unpack(names))
  elseif op == 'HSET' then redis.call('HDEL', KEYS[1], unpack(names))
  elseif op == 'LPUSH' then redis.call('LPOP', KEYS[1], b) end
  done = done + b
end
return {tostring(spent), tostring(base), done}
