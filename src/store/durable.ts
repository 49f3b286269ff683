import { withDeadline } from "../util/deadline";
import { createLru } from "../util/lru";
import { ENTRY, OBJECT } from "./durable-layout";
import type { GatehouseSessions, Resolved, SessionObjects } from "./durable-object";
import type { RevokeItem, SessionWrite } from "./durable-sessions";
import { decodeLookup, decodeSession, pointerOf } from "./record";
import { CorruptRecordError, type SessionRecord, type SessionStore, type StoreOperation, StoreUnavailableError, type Ttl } from "./types";

/** Token owners remembered per isolate; at ~110 bytes each, about 1 MB at most. */
const OWNER_CACHE_SIZE = 10_000;

const ms = (ttl: Ttl) => Math.max(1, Math.ceil(ttl));

/** How long one call to an object may take before it counts as an outage (503, cookie kept), as Redis's 2 s. */
export const DURABLE_TIMEOUT_MS = 2_000;

/**
 * Whether a failed call may be sent once more: the runtime marks transient
 * failures (a dropped connection, an object reset by a deploy) `retryable`. An
 * overloaded object is never sent more (Cloudflare's guidance), and neither is
 * `claimMark`, the one call that is not idempotent: its retry would find its own claim.
 */
function retryable(operation: StoreOperation, error: unknown): boolean {
  const flags = (typeof error === "object" && error !== null ? error : {}) as { retryable?: unknown; overloaded?: unknown };
  return operation !== "claimMark" && flags.retryable === true && flags.overloaded !== true;
}

/** Runs one operation (building fresh stubs each time: a stub that threw may be broken); a failure is an outage, a malformed record is not. */
async function guard<T>(operation: StoreOperation, run: () => Promise<T>, attempt = 0): Promise<T> {
  try {
    return await withDeadline(run(), DURABLE_TIMEOUT_MS, `durable ${operation}`);
  } catch (error) {
    if (error instanceof CorruptRecordError) throw error;
    if (attempt === 0 && retryable(operation, error)) return guard(operation, run, 1);
    throw new StoreUnavailableError("durable", operation, error);
  }
}

/**
 * Revocations issued in the same tick for the same user, sent as one call: the
 * manager ends all of a user's sessions with one `revoke` per session, in one
 * `Promise.all`, and the user's object revokes them in one transaction.
 */
function createRevocations(send: (sub: string, items: RevokeItem[]) => Promise<void>) {
  const pending = new Map<string, { items: RevokeItem[]; sent: Promise<void> }>();
  return (sub: string, item: RevokeItem): Promise<void> => {
    const batch = pending.get(sub);
    if (batch) {
      batch.items.push(item);
      return batch.sent;
    }
    const items = [item];
    const sent = Promise.resolve().then(() => {
      pending.delete(sub);
      return send(sub, items);
    });
    pending.set(sub, { items, sent });
    return sent;
  };
}

/**
 * The Durable Objects backend (`SESSION_STORE = "durable"`): one object per
 * user holds that user's sessions, tokens and revocation marks, so rotation,
 * reuse detection, revocation and the user's list are single-object
 * transactions and take effect at once everywhere. A directory sharded by hash
 * maps a token (or a sid) to its user object; the mapping never changes, so
 * it is remembered per isolate and a look-up is one call to the user object.
 * An isolate that does not know the token asks its directory shard, which
 * forwards to the user object: still one call. docs/storage-schema.md has the
 * layout and the argument.
 */
export function createDurableStore(binding: SessionObjects): SessionStore {
  const namespace = binding as unknown as DurableObjectNamespace<GatehouseSessions>;
  const named = (name: string) => namespace.get(namespace.idFromName(name));
  const owned = (owner: string) => namespace.get(namespace.idFromString(owner));
  /** A user's object, and its id as directory entries and the owner cache hold it. */
  const userOf = async (sub: string) => {
    const id = namespace.idFromName(await OBJECT.user(sub));
    return { stub: namespace.get(id), owner: id.toString() };
  };
  /** A mark's directory shard (wrapped: a stub is not a value to resolve a promise with). */
  const markShard = async (key: string) => ({ stub: named(await OBJECT.shardOf(ENTRY.mark(key))) });
  const owners = createLru<string, string>(OWNER_CACHE_SIZE);
  const revocations = createRevocations((sub, items) => guard("revoke", async () => (await userOf(sub)).stub.revoke(items)));
  const written = (session: SessionRecord, ttl: Ttl): SessionWrite => ({
    record: JSON.stringify(session),
    sid: session.sid,
    gen: session.gen,
    tokenHash: session.tokenHash,
    pointer: JSON.stringify(pointerOf(session)),
    ttl: ms(ttl),
  });

  /** The user object when this isolate knows the token's owner; its directory shard otherwise. Issued at once, in the caller's tick. */
  async function resolve(tokenHash: string): Promise<Resolved | null> {
    const owner = owners.get(tokenHash);
    if (owner) return { owner, found: await owned(owner).lookup(tokenHash) };
    return named(OBJECT.tokenShard(tokenHash)).resolve(tokenHash);
  }

  return {
    lookup: (tokenHash) =>
      guard("lookup", async () => {
        const resolved = await resolve(tokenHash);
        const found = resolved?.found;
        const lookup = found ? decodeLookup(found.pointer, found.session, found.revoked) : null;
        if (lookup && resolved) owners.set(tokenHash, resolved.owner);
        return lookup;
      }),
    get: (sid) => guard("get", async () => decodeSession(await named(await OBJECT.shardOf(ENTRY.sid(sid))).resolveSession(sid))),
    create: (session, ttl) =>
      guard("create", async () => {
        const user = await userOf(session.sub);
        await user.stub.create(written(session, ttl));
        owners.set(session.tokenHash, user.owner);
      }),
    rotate: (session, ttl) =>
      guard("rotate", async () => {
        const user = await userOf(session.sub);
        const rotated = await user.stub.rotate(written(session, ttl));
        // The isolate that rotated knows the new token's owner: its next request is one call.
        if (rotated) owners.set(session.tokenHash, user.owner);
        return rotated;
      }),
    update: (session, ttl) => guard("update", async () => (await userOf(session.sub)).stub.update(written(session, ttl))),
    revoke: (sid, sub, ttl) => revocations(sub, { sid, ttl: ms(ttl) }),
    listUser: (sub) =>
      guard("listUser", async () => {
        const texts = await (await userOf(sub)).stub.list();
        return texts.map(decodeSession).filter((session): session is SessionRecord => session !== null);
      }),
    putMark: (key, value, ttl) => guard("putMark", async () => (await markShard(key)).stub.put(ENTRY.mark(key), value, ms(ttl))),
    getMark: (key) => guard("getMark", async () => (await markShard(key)).stub.read(ENTRY.mark(key))),
    claimMark: (key, ttl) => guard("claimMark", async () => (await markShard(key)).stub.claim(ENTRY.mark(key), ms(ttl))),
    ping: () => guard("ping", async () => void (await named(OBJECT.keyset).ping())),
    readKeyset: () => guard("readKeyset", async () => named(OBJECT.keyset).read(ENTRY.keyset)),
    // No TTL: the keyset outlives every session; its manager prunes keys inside it.
    writeKeyset: (value) => guard("writeKeyset", async () => named(OBJECT.keyset).put(ENTRY.keyset, value, null)),
  };
}
