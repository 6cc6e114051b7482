-- TapPass limits: reserve an amount on every budget, all or nothing.
-- KEYS[i]  budget counter i (micro-USD spent in its period, open reservations included)
-- ARGV[1]  amount to reserve (micro-USD)
-- ARGV     per budget i: ARGV[2i] limit, ARGV[2i+1] ttl (seconds)
-- A budget can take the amount if spent + amount <= limit (amount > 0) or spent < limit (amount 0).
-- Returns {0, 0} when every budget took the amount (INCRBY + EXPIRE on all);
-- otherwise {i, spent} for the first budget that could not, and nothing was written.
local amount = tonumber(ARGV[1])
for i = 1, #KEYS do
  local limit = tonumber(ARGV[2 * i])
  local spent = tonumber(redis.call('GET', KEYS[i]) or '0')
  if amount > 0 then
    if spent + amount > limit then
      return {i, spent}
    end
  elseif spent >= limit then
    return {i, spent}
  end
end
for i = 1, #KEYS do
  if amount > 0 then
    redis.call('INCRBY', KEYS[i], ARGV[1])
  end
  redis.call('EXPIRE', KEYS[i], ARGV[2 * i + 1])
end
return {0, 0}
