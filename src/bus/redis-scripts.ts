/**
 * The emit, as one atomic Redis script: checks the idempotency key, issues the next id
 * (ids grow across every instance, so the global stream is in id order), appends to the
 * user's history stream (trimming by count and age and raising the user's floor to what it
 * trimmed), then appends to the global stream every instance reads.
 *
 * History entry ids are the event id split as `<ms>-<µs>`, so XRANGE can start after an id.
 * Lua numbers are doubles: ids (about 1.8e15) are below 2^53 and stay exact.
 *
 * KEYS: 1 last id, 2 user history, 3 user floor, 4 global stream, 5 idempotency key, 6 epoch
 * ARGV: 1 now µs, 2 user id, 3 type, 4 json, 5 created ms, 6 key or '', 7 history size,
 *       8 history ttl ms, 9 global stream length
 */
export const EMIT_SCRIPT = `
local function entryOf(id)
  local ms = math.floor(id / 1000)
  return string.format('%.0f', ms) .. '-' .. string.format('%.0f', id - ms * 1000)
end
local function idOf(entry)
  local dash = string.find(entry, '-')
  return tonumber(string.sub(entry, 1, dash - 1)) * 1000 + tonumber(string.sub(entry, dash + 1))
end
local function raiseFloor(id)
  local floor = tonumber(redis.call('GET', KEYS[3]) or '0')
  if id > floor then redis.call('SET', KEYS[3], string.format('%.0f', id)) end
end

local now = tonumber(ARGV[1])
local key = ARGV[6]
redis.call('SET', KEYS[6], string.format('%.0f', now), 'NX')
if key ~= '' then
  local earlier = redis.call('GET', KEYS[5])
  if earlier then return {earlier, 1} end
end

local id = math.max(tonumber(redis.call('GET', KEYS[1]) or '0') + 1, now)
local idText = string.format('%.0f', id)
redis.call('SET', KEYS[1], idText)

local cutoff = entryOf(now - tonumber(ARGV[8]) * 1000)
local expired = redis.call('XREVRANGE', KEYS[2], '(' .. cutoff, '-', 'COUNT', 1)
if #expired > 0 then
  raiseFloor(idOf(expired[1][1]))
  redis.call('XTRIM', KEYS[2], 'MINID', cutoff)
end
local size = tonumber(ARGV[7])
local length = redis.call('XLEN', KEYS[2])
if length >= size then
  local dropped = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', length - size + 1)
  raiseFloor(idOf(dropped[#dropped][1]))
  redis.call('XTRIM', KEYS[2], 'MAXLEN', size - 1)
end

redis.call('XADD', KEYS[2], entryOf(id), 't', ARGV[3], 'j', ARGV[4], 'c', ARGV[5], 'k', key)
redis.call('PEXPIRE', KEYS[2], ARGV[8])
redis.call('PEXPIRE', KEYS[3], ARGV[8])
if key ~= '' then redis.call('SET', KEYS[5], idText, 'PX', ARGV[8]) end
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[9], '*',
  'u', ARGV[2], 'i', idText, 't', ARGV[3], 'j', ARGV[4])
return {idText, 0}
`;

/**
 * Where a new reader starts when the global stream is empty: after every id issued so far.
 * A Redis without an epoch (new, or one that lost its data) gets one now, and the id counter
 * is moved up to it, so every later id is above this position and above the epoch.
 *
 * KEYS: 1 epoch, 2 last id. ARGV: 1 now µs.
 */
export const START_SCRIPT = `
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[1], epoch)
end
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
if last < tonumber(epoch) then
  last = tonumber(epoch)
  redis.call('SET', KEYS[2], epoch)
end
return string.format('%.0f', last)
`;

/** Splits an event id into the `<ms>-<µs>` form of its history entry. */
export function entryIdOf(id: number): string {
  const ms = Math.floor(id / 1000);

  return `${ms}-${id - ms * 1000}`;
}

/** Joins a history entry id back into an event id. */
export function eventIdOf(entryId: string): number {
  const [ms, micros] = entryId.split('-');

  return Number(ms) * 1000 + Number(micros);
}
