import { KEY } from "./keys";
import { asSessionRecord, asTokenRecord, parseJson } from "./record";
import { CorruptRecordError, type Lookup, type SessionRecord, type SessionStore, type Ttl } from "./types";

/** Options of the in-memory store. */
export interface MemoryStoreOptions {
  /** The clock that expires entries, in Unix ms; tests move it forward. */
  now?: () => number;
}

/**
 * A store in one isolate's memory, for unit tests and nothing else: it is
 * neither shared between isolates nor durable. Values are kept as JSON text,
 * like the real backends, so a test can plant a corrupted value with `raw`.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}) {
  const now = options.now ?? Date.now;
  const data = new Map<string, { value: string; expires: number }>();

  const read = (key: string): string | null => {
    const entry = data.get(key);
    if (!entry) return null;
    if (entry.expires <= now()) {
      data.delete(key);
      return null;
    }
    return entry.value;
  };
  const write = (key: string, value: unknown, ttl: Ttl) => void data.set(key, { value: JSON.stringify(value), expires: now() + ttl });

  const store: SessionStore & { raw: Map<string, { value: string; expires: number }> } = {
    raw: data,
    async lookup(tokenHash) {
      const pointerText = read(KEY.token(tokenHash));
      if (pointerText === null) return null;
      const token = asTokenRecord(parseJson(pointerText));
      if (!token) throw new CorruptRecordError(`tok: value is malformed`);
      const sessionText = read(KEY.session(token.sid));
      const session = sessionText === null ? null : asSessionRecord(parseJson(sessionText));
      if (session === undefined) throw new CorruptRecordError(`ses: value is malformed`);
      return { token, session, revoked: read(KEY.revoked(token.sid)) !== null } satisfies Lookup;
    },
    async get(sid) {
      return asSessionRecord(parseJson(read(KEY.session(sid)))) ?? null;
    },
    async create(session, ttl) {
      write(KEY.token(session.tokenHash), { sid: session.sid, gen: session.gen }, ttl);
      write(KEY.session(session.sid), session, ttl);
      write((await KEY.userPrefix(session.sub)) + session.sid, 1, ttl);
    },
    async rotate(session, ttl) {
      write(KEY.token(session.tokenHash), { sid: session.sid, gen: session.gen }, ttl);
      write(KEY.session(session.sid), session, ttl);
      return true;
    },
    async update(session, ttl) {
      if ((await store.get(session.sid))?.gen === session.gen) write(KEY.session(session.sid), session, ttl);
    },
    async revoke(sid, sub, ttl) {
      write(KEY.revoked(sid), 1, ttl);
      data.delete(KEY.session(sid));
      data.delete((await KEY.userPrefix(sub)) + sid);
    },
    async listUser(sub) {
      const prefix = await KEY.userPrefix(sub);
      const sids = [...data.keys()].filter((key) => key.startsWith(prefix) && read(key) !== null).map((key) => key.slice(prefix.length));
      const sessions = await Promise.all(sids.map((sid) => store.get(sid)));
      return sessions.filter((s): s is SessionRecord => s !== null);
    },
    async ping() {},
    async readKeyset() {
      return read(KEY.keyset);
    },
    async writeKeyset(value) {
      data.set(KEY.keyset, { value, expires: Number.POSITIVE_INFINITY });
    },
  };
  return store;
}

