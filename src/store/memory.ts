import { KEY } from "./layout";
import { decodeLookup, decodeSession, pointerOf } from "./record";
import type { SessionStore, Ttl } from "./types";

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
      const pointer = decodeLookup(read(KEY.token(tokenHash)), null, false)?.token;
      if (!pointer) return null;
      return decodeLookup(pointer, read(KEY.session(pointer.sid)), read(KEY.revoked(pointer.sid)) !== null);
    },
    async get(sid) {
      return decodeSession(read(KEY.session(sid)));
    },
    async create(session, ttl) {
      write(KEY.token(session.tokenHash), pointerOf(session), ttl);
      write(KEY.session(session.sid), session, ttl);
      write((await KEY.userPrefix(session.sub)) + session.sid, 1, ttl);
    },
    async rotate(session, ttl) {
      write(KEY.token(session.tokenHash), pointerOf(session), ttl);
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
      return sessions.filter((session) => session !== null);
    },
    async putMark(key, value, ttl) {
      data.set(KEY.mark(key), { value, expires: now() + ttl });
    },
    async getMark(key) {
      return read(KEY.mark(key));
    },
    async claimMark(key, ttl) {
      if (read(KEY.mark(key)) !== null) return false;
      data.set(KEY.mark(key), { value: "1", expires: now() + ttl });
      return true;
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
