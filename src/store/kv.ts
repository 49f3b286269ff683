import { utf8 } from "../util/encoding";
import { createLru } from "../util/lru";
import { KEY } from "./layout";
import { decodeLookup, decodeSession, pointerOf } from "./record";
import { CorruptRecordError, type SessionStore, type StoreOperation, StoreUnavailableError, type TokenRecord, type Ttl } from "./types";

/** KV refuses an `expirationTtl` under 60 seconds. */
const KV_MIN_TTL_SECONDS = 60;

const ttlSeconds = (ttl: Ttl) => Math.max(KV_MIN_TTL_SECONDS, Math.ceil(ttl / 1_000));

/** KV refuses keys over 512 bytes (with an error, not a miss); no such key was ever written. */
const KV_MAX_KEY_BYTES = 512;

const storable = (key: string) => utf8(key).byteLength <= KV_MAX_KEY_BYTES;

/** Token pointers remembered per isolate; at ~150 bytes each, about 1.5 MB at most. */
const POINTER_CACHE_SIZE = 10_000;

/**
 * The Cloudflare KV backend. KV is eventually consistent: a write is visible at
 * once in the location that made it and within about 60 s elsewhere, list
 * results lag the same way, and a key takes at most one write per second
 * (https://developers.cloudflare.com/kv/concepts/how-kv-works/). The session
 * manager is built for those limits: rotation needs no compare-and-set, and
 * touches are throttled. There is no transaction: `rotate` writes the new
 * pointer before the session so no reader meets a session naming a missing token.
 *
 * A look-up costs one KV call once the isolate knows the token: a token's
 * pointer (`tok:`) never changes after it is written, so it is remembered in
 * memory, and the session and its revocation mark are read together in one
 * bulk get. Only the first request of a token in an isolate reads the pointer.
 * Nothing mutable is cached: revocation and rotation are read every time.
 */
export function createKvStore(kv: KVNamespace): SessionStore {
  /** Runs one operation; a failure of KV itself is an outage, a malformed record is not. */
  const guard =
    <A extends unknown[], T>(operation: StoreOperation, run: (...args: A) => Promise<T>) =>
    async (...args: A): Promise<T> => {
      try {
        return await run(...args);
      } catch (error) {
        if (error instanceof CorruptRecordError) throw error;
        throw new StoreUnavailableError("kv", operation, error);
      }
    };
  const put = (key: string, value: unknown, ttl: Ttl) => kv.put(key, JSON.stringify(value), { expirationTtl: ttlSeconds(ttl) });
  // `get` takes a sid from a URL (`DELETE /_gate/sessions/:sid`): an overlong one is unknown, not an outage.
  const getSession = async (sid: string) => (storable(KEY.session(sid)) ? decodeSession(await kv.get(KEY.session(sid))) : null);
  const pointers = createLru<string, TokenRecord>(POINTER_CACHE_SIZE);

  /** The token's pointer: from memory, or read once and remembered. Unknown tokens are not remembered. */
  async function pointerFor(tokenHash: string): Promise<TokenRecord | string | null> {
    return pointers.get(tokenHash) ?? (await kv.get(KEY.token(tokenHash)));
  }

  return {
    lookup: guard("lookup", async (tokenHash) => {
      const pointer = decodeLookup(await pointerFor(tokenHash), null, false)?.token;
      if (!pointer) return null;
      pointers.set(tokenHash, pointer);
      const values = await kv.get([KEY.session(pointer.sid), KEY.revoked(pointer.sid)], "text");
      return decodeLookup(pointer, values.get(KEY.session(pointer.sid)) ?? null, values.get(KEY.revoked(pointer.sid)) != null);
    }),
    get: guard("get", getSession),
    create: guard("create", async (session, ttl) => {
      await put(KEY.token(session.tokenHash), pointerOf(session), ttl);
      await Promise.all([put(KEY.session(session.sid), session, ttl), put((await KEY.userPrefix(session.sub)) + session.sid, 1, ttl)]);
    }),
    rotate: guard("rotate", async (session, ttl) => {
      await put(KEY.token(session.tokenHash), pointerOf(session), ttl);
      await put(KEY.session(session.sid), session, ttl);
      return true;
    }),
    update: guard("update", async (session, ttl) => {
      // No compare-and-set in KV: re-reading first keeps a touch that lost a race (to a
      // rotation or a revocation seen here) from rolling the session back or re-creating it.
      const current = await getSession(session.sid);
      if (current?.gen === session.gen) await put(KEY.session(session.sid), session, ttl);
    }),
    revoke: guard("revoke", async (sid, sub, ttl) => {
      // The mark goes first and nothing ever overwrites it: a rotation or touch racing
      // this revocation may rewrite `ses:`, but cannot bring the session back.
      await put(KEY.revoked(sid), 1, ttl);
      await Promise.all([kv.delete(KEY.session(sid)), kv.delete((await KEY.userPrefix(sub)) + sid)]);
    }),
    listUser: guard("listUser", async (sub) => {
      const prefix = await KEY.userPrefix(sub);
      const sids = await listSuffixes(kv, prefix);
      const sessions = await Promise.all(sids.map(getSession));
      return sessions.filter((session) => session !== null);
    }),
    putMark: guard("putMark", (key, value, ttl) => kv.put(KEY.mark(key), value, { expirationTtl: ttlSeconds(ttl) })),
    getMark: guard("getMark", (key) => (storable(KEY.mark(key)) ? kv.get(KEY.mark(key)) : Promise.resolve(null))),
    claimMark: guard("claimMark", async (key, ttl) => {
      // No compare-and-set in KV: a read then a write, enough to refuse a replay seen
      // here before; two claims racing in two locations can both win (storage-schema.md).
      if ((await kv.get(KEY.mark(key))) !== null) return false;
      await kv.put(KEY.mark(key), "1", { expirationTtl: ttlSeconds(ttl) });
      return true;
    }),
    ping: guard("ping", async () => void (await kv.get("health:ping"))),
    readKeyset: guard("readKeyset", () => kv.get(KEY.keyset)),
    // No expirationTtl: the keyset outlives every session; its manager prunes keys inside it.
    writeKeyset: guard("writeKeyset", (value) => kv.put(KEY.keyset, value)),
  };
}

/** Every key under `prefix`, without the prefix, following KV's list cursor. */
async function listSuffixes(kv: KVNamespace, prefix: string): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | undefined;
  do {
    const page: KVNamespaceListResult<unknown, string> = await kv.list({ prefix, cursor });
    names.push(...page.keys.map((key) => key.name.slice(prefix.length)));
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return names;
}
