import type { Redis } from "@upstash/redis/cloudflare";
import { KEY } from "./keys";
import { asSessionRecord, asTokenRecord, parseJson } from "./record";
import { CorruptRecordError, type SessionRecord, type SessionStore, StoreUnavailableError, type Ttl } from "./types";
import * as LUA from "./redis-scripts";

/** The commands the backend uses: narrow, as @upstash/ratelimit does it. */
export type RedisClient = Pick<Redis, "evalsha" | "eval" | "get" | "set" | "ping">;

type Script = { source: string; sha: Promise<string> };

async function sha1(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

const ms = (ttl: Ttl) => String(Math.max(1, Math.ceil(ttl)));

/**
 * The Upstash Redis backend. Every multi-key operation is one Lua script
 * (store/redis-scripts.ts), so rotation, revocation and the user index are
 * atomic and revocation is immediate. Scripts run by EVALSHA, falling back to
 * EVAL once when Redis does not know them yet (NOSCRIPT).
 *
 * `lookup` issues its EVALSHA synchronously when the hash is known: with the
 * client's auto-pipelining, the rate limiter's EVALSHA issued in the same tick
 * travels in the same HTTP request, so the hot path costs one round trip.
 */
export function createRedisStore(redis: RedisClient): SessionStore & { ready: Promise<void> } {
  const scripts = new Map<string, Script>();
  const script = (source: string): Script => {
    let entry = scripts.get(source);
    if (!entry) scripts.set(source, (entry = { source, sha: sha1(source) }));
    return entry;
  };
  const lookupScript = script(LUA.LOOKUP);
  let lookupSha: string | undefined;
  const ready = lookupScript.sha.then((sha) => void (lookupSha = sha));

  const run = async <T>(source: string, keys: string[], args: string[], sha?: string): Promise<T> => {
    const entry = script(source);
    try {
      try {
        return (await redis.evalsha(sha ?? (await entry.sha), keys, args)) as T;
      } catch (error) {
        if (!String(error).includes("NOSCRIPT")) throw error;
        return (await redis.eval(source, keys, args)) as T;
      }
    } catch (error) {
      throw new StoreUnavailableError(`Redis: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  };
  const json = JSON.stringify;

  return {
    ready,
    async lookup(tokenHash) {
      const found = await run<[string, string | null, number] | null>(LUA.LOOKUP, [KEY.token(tokenHash)], [], lookupSha);
      if (!found) return null;
      const token = asTokenRecord(parseJson(found[0]));
      if (!token) throw new CorruptRecordError("tok: value is malformed");
      const session = found[1] === null ? null : asSessionRecord(parseJson(found[1]));
      if (session === undefined) throw new CorruptRecordError("ses: value is malformed");
      return { token, session, revoked: Number(found[2]) === 1 };
    },
    async get(sid) {
      try {
        return asSessionRecord(parseJson(await redis.get<string>(KEY.session(sid)))) ?? null;
      } catch (error) {
        throw new StoreUnavailableError(`Redis: ${String(error)}`, { cause: error });
      }
    },
    async create(session, ttl) {
      const pointer = json({ sid: session.sid, gen: session.gen });
      const keys = [KEY.token(session.tokenHash), KEY.session(session.sid), (await KEY.userPrefix(session.sub)).slice(0, -1)];
      await run(LUA.CREATE, keys, [pointer, json(session), ms(ttl), session.sid]);
    },
    async rotate(session, ttl) {
      const pointer = json({ sid: session.sid, gen: session.gen });
      const keys = [KEY.token(session.tokenHash), KEY.session(session.sid), KEY.revoked(session.sid)];
      const written = await run<number>(LUA.ROTATE, keys, [pointer, json(session), ms(ttl), String(session.gen), session.tokenHash]);
      return Number(written) > 0;
    },
    async update(session, ttl) {
      await run(LUA.UPDATE, [KEY.session(session.sid), KEY.revoked(session.sid)], [json(session), ms(ttl), String(session.gen)]);
    },
    async revoke(sid, sub, ttl) {
      await run(LUA.REVOKE, [KEY.revoked(sid), KEY.session(sid), (await KEY.userPrefix(sub)).slice(0, -1)], [ms(ttl), sid]);
    },
    async listUser(sub) {
      const values = await run<string[]>(LUA.LIST, [(await KEY.userPrefix(sub)).slice(0, -1)], []);
      return values.map((value) => asSessionRecord(parseJson(value))).filter((s): s is SessionRecord => s !== undefined && s !== null);
    },
    async ping() {
      try {
        await redis.ping();
      } catch (error) {
        throw new StoreUnavailableError(`Redis: ${String(error)}`, { cause: error });
      }
    },
    async readKeyset() {
      try {
        return (await redis.get<string>(KEY.keyset)) ?? null;
      } catch (error) {
        throw new StoreUnavailableError(`Redis: ${String(error)}`, { cause: error });
      }
    },
    async writeKeyset(value) {
      try {
        await redis.set(KEY.keyset, value);
      } catch (error) {
        throw new StoreUnavailableError(`Redis: ${String(error)}`, { cause: error });
      }
    },
  };
}
