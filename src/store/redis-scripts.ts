/**
 * The Lua scripts of the Redis backend. Each runs atomically in Redis, which is
 * what makes rotation, revocation and the user index race-free there (KV has
 * no such thing; see store/kv.ts). Values are the same JSON text KV stores.
 * Scripts read keys derived from the pointer they just read (`ses:<sid>`),
 * which a single-node Redis such as Upstash's allows.
 */

/** KEYS: tok. ARGV: —. Returns {pointer, session|false, revoked 0/1}, or false for an unknown token. */
export const LOOKUP = `
local pointer = redis.call('GET', KEYS[1])
if not pointer then return false end
local ok, decoded = pcall(cjson.decode, pointer)
if not ok or type(decoded) ~= 'table' or type(decoded.sid) ~= 'string' then return {pointer, false, 0} end
local session = redis.call('GET', 'ses:' .. decoded.sid)
return {pointer, session or false, redis.call('EXISTS', 'rev:' .. decoded.sid)}
`;

/** KEYS: tok, ses, usr. ARGV: pointer, session, ttl ms, sid. */
export const CREATE = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
redis.call('SADD', KEYS[3], ARGV[4])
if redis.call('PTTL', KEYS[3]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[3], ARGV[3]) end
return 1
`;

/**
 * Lua prologue shared by the writes that must not touch a revoked or ended
 * session: leaves the stored session decoded in `stored`, or returns 0.
 */
const LIVE_SESSION = (ses: string, rev: string) => `
if redis.call('EXISTS', ${rev}) == 1 then return 0 end
local current = redis.call('GET', ${ses})
if not current then return 0 end
local ok, stored = pcall(cjson.decode, current)
if not ok or type(stored) ~= 'table' then return 0 end
`;

/**
 * KEYS: new tok, ses, rev. ARGV: pointer, session, ttl ms, new gen, new token hash.
 * Compare-and-set on the generation: writes only if the stored session is the
 * one before this rotation and not revoked. Returns 1 when written, 2 when
 * another request already wrote this same successor, 0 when the session was
 * revoked, ended or has moved on.
 */
export const ROTATE = `${LIVE_SESSION("KEYS[2]", "KEYS[3]")}
local gen = tonumber(ARGV[4])
if stored.gen == gen and stored.tokenHash == ARGV[5] then return 2 end
if stored.gen ~= gen - 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return 1
`;

/** KEYS: ses, rev. ARGV: session, ttl ms, gen. Rewrites only the same generation of a live session. */
export const UPDATE = `${LIVE_SESSION("KEYS[1]", "KEYS[2]")}
if stored.gen ~= tonumber(ARGV[3]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

/** KEYS: rev, ses, usr. ARGV: ttl ms, sid. */
export const REVOKE = `
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[3], ARGV[2])
return 1
`;

/** KEYS: usr. Returns the stored sessions of the index, pruning sids whose session is gone. */
export const LIST = `
local sids = redis.call('SMEMBERS', KEYS[1])
local out = {}
for _, sid in ipairs(sids) do
  local session = redis.call('GET', 'ses:' .. sid)
  if session then table.insert(out, session) else redis.call('SREM', KEYS[1], sid) end
end
return out
`;
