import type { Redis } from "@upstash/redis/cloudflare";
import { KEY } from "./layout";
import { decodeLookup, decodeSession, pointerOf } from "./record";
import * as LUA from "./redis-scripts";
import { CorruptRecordError, type SessionRecord, type SessionStore, type StoreOperation, StoreUnavailableError, type Ttl } from "./types";

/** The commands the backend uses: narrow, as @upstash/ratelimit does it. */
export type RedisClient = Pick<Redis, "evalsha" | "eval" | "get" | "set" | "ping" | "createScript">;

const ms = (ttl: Ttl) => String(Math.max(1, Math.ceil(ttl)));
const json = JSON.stringify;

async function sha1(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Runs one operation; a failure of Redis or its REST API is an outage, a malformed record is not. */
async function guard<T>(operation: StoreOperation, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof CorruptRecordError) throw error;
    throw new StoreUnavailableError("redis", operation, error);
  }
}

/**
 * The look-up script, run by hand rather than by `createScript().exec`: exec
 * awaits its SHA-1 before it sends EVALSHA, which can move the command out of
 * the tick in which the rate limiter's command is issued, and with
 * auto-pipelining only commands of one tick share an HTTP request. Here the
 * hash is computed once, up front, so the hot path stays at one round trip.
 */
function createLookup(redis: RedisClient) {
  let sha: string | undefined;
  const ready = sha1(LUA.LOOKUP);
  void ready.then((hash) => {
    sha = hash;
  });
  return async (keys: string[]) => {
    type Found = [string, string | null, number] | null;
    const hash = sha ?? (await ready);
    try {
      return (await redis.evalsha(hash, keys, [])) as Found;
    } catch (error) {
      if (!String(error).includes("NOSCRIPT")) throw error;
      return (await redis.eval(LUA.LOOKUP, keys, [])) as Found;
    }
  };
}

/**
 * The Upstash Redis backend. Every multi-key operation is one Lua script
 * (store/redis-scripts.ts), so rotation, revocation and the user index are
 * atomic and revocation is immediate. Scripts run by EVALSHA, falling back to
 * EVAL once when Redis does not know them yet (NOSCRIPT).
 */
export function createRedisStore(redis: RedisClient): SessionStore {
  const lookup = createLookup(redis);
  const script = (source: string) => {
    const compiled = redis.createScript<unknown>(source);
    return (keys: string[], args: string[]) => compiled.exec(keys, args);
  };
  const [create, rotate, update, revoke, list] = [LUA.CREATE, LUA.ROTATE, LUA.UPDATE, LUA.REVOKE, LUA.LIST].map(script);
  const userIndex = async (sub: string) => (await KEY.userPrefix(sub)).slice(0, -1);

  return {
    lookup: (tokenHash) =>
      guard("lookup", async () => {
        const found = await lookup([KEY.token(tokenHash)]);
        return found && decodeLookup(found[0], found[1], Number(found[2]) === 1);
      }),
    get: (sid) => guard("get", async () => decodeSession(await redis.get<string>(KEY.session(sid)))),
    create: (session, ttl) =>
      guard("create", async () => {
        const keys = [KEY.token(session.tokenHash), KEY.session(session.sid), await userIndex(session.sub)];
        await create(keys, [json(pointerOf(session)), json(session), ms(ttl), session.sid]);
      }),
    rotate: (session, ttl) =>
      guard("rotate", async () => {
        const keys = [KEY.token(session.tokenHash), KEY.session(session.sid), KEY.revoked(session.sid)];
        return Number(await rotate(keys, [json(pointerOf(session)), json(session), ms(ttl), String(session.gen), session.tokenHash])) > 0;
      }),
    update: (session, ttl) =>
      guard(
        "update",
        async () => void (await update([KEY.session(session.sid), KEY.revoked(session.sid)], [json(session), ms(ttl), String(session.gen)])),
      ),
    revoke: (sid, sub, ttl) =>
      guard("revoke", async () => void (await revoke([KEY.revoked(sid), KEY.session(sid), await userIndex(sub)], [ms(ttl), sid]))),
    listUser: (sub) =>
      guard("listUser", async () => {
        const values = (await list([await userIndex(sub)], [])) as string[];
        return values.map(decodeSession).filter((session): session is SessionRecord => session !== null);
      }),
    putMark: (key, value, ttl) => guard("putMark", async () => void (await redis.set(KEY.mark(key), value, { px: Number(ms(ttl)) }))),
    getMark: (key) => guard("getMark", async () => (await redis.get<string>(KEY.mark(key))) ?? null),
    claimMark: (key, ttl) => guard("claimMark", async () => (await redis.set(KEY.mark(key), "1", { px: Number(ms(ttl)), nx: true })) !== null),
    ping: () => guard("ping", async () => void (await redis.ping())),
    readKeyset: () => guard("readKeyset", async () => (await redis.get<string>(KEY.keyset)) ?? null),
    writeKeyset: (value) => guard("writeKeyset", async () => void (await redis.set(KEY.keyset, value))),
  };
}
