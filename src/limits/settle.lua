-- TapPass limits: settle a granted reservation to the actual cost.
-- KEYS[i]  budget counter i
-- ARGV     per budget i: ARGV[2i-1] delta = actual - reserved (signed integer), ARGV[2i] ttl (seconds)
-- Adds the delta, floors the counter at 0, refreshes the expiry. Returns 0.
for i = 1, #KEYS do
  local delta = ARGV[2 * i - 1]
  if tonumber(delta) ~= 0 then
    local value = redis.call('INCRBY', KEYS[i], delta)
    if value < 0 then
      redis.call('SET', KEYS[i], 0)
    end
  end
  redis.call('EXPIRE', KEYS[i], ARGV[2 * i])
end
return 0
