-- TapPass limits: admit (fixed-window rate limits), all or nothing.
-- KEYS[i]  window counter of check i (key prefix and window index already applied by the client)
-- ARGV     per check i, three values: ARGV[3i-2] limit, ARGV[3i-1] cost, ARGV[3i] ttl (seconds)
-- A check passes if current + cost <= limit (cost > 0) or current < limit (cost == 0).
-- Returns 0 when every check passed and each cost > 0 was counted (INCRBY + EXPIRE);
-- otherwise the 1-based index of the first failing check, and nothing was written.
for i = 1, #KEYS do
  local limit = tonumber(ARGV[3 * i - 2])
  local cost = tonumber(ARGV[3 * i - 1])
  local current = tonumber(redis.call('GET', KEYS[i]) or '0')
  if cost > 0 then
    if current + cost > limit then
      return i
    end
  elseif current >= limit then
    return i
  end
end
for i = 1, #KEYS do
  local cost = ARGV[3 * i - 1]
  if tonumber(cost) > 0 then
    redis.call('INCRBY', KEYS[i], cost)
    redis.call('EXPIRE', KEYS[i], ARGV[3 * i])
  end
end
return 0
