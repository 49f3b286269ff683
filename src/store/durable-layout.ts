import { sha256 } from "../util/encoding";
import { KEY } from "./layout";

/**
 * Base64url characters of a hash that pick a directory shard: 2 give 4,096
 * shards. A shard only answers an isolate's first look-up of a token and the
 * writes of new tokens, so at ~1,000 requests per second per object (the soft
 * limit of one Durable Object) that is headroom for millions of look-ups a second.
 */
export const SHARD_CHARS = 2;

/**
 * Names of the Durable Objects of `SESSION_STORE = "durable"`, one name space
 * per role, all of the one class `GatehouseSessions` (docs/storage-schema.md).
 */
export const OBJECT = {
  /** A user's object: their sessions, tokens and revocation marks. `sub` is hashed, as KV's index does. */
  user: async (sub: string) => (await KEY.userPrefix(sub)).slice(0, -1),
  /** The directory shard of a token: its hash is already uniform, so its first characters pick the shard. */
  tokenShard: (tokenHash: string) => `dir:${tokenHash.slice(0, SHARD_CHARS)}`,
  /** The directory shard of any other entry (a sid, a mark): by a hash of the entry's key, whatever its shape. */
  shardOf: async (entry: string) => `dir:${(await sha256(entry)).slice(0, SHARD_CHARS)}`,
  /** The one object holding the assertion keyset; it also answers `ping`. */
  keyset: "kst:assertion",
  /** One object per limiter and key (an address, a session, a user): exact, global counts. */
  limiter: (name: string, key: string) => `rl:${name}:${key}`,
} as const;

/** Keys of the `entries` table of directory shards and of the keyset object. */
export const ENTRY = {
  token: KEY.token,
  /** A sid's owner, for `get(sid)` (the admin API and the session list name sessions by sid alone). */
  sid: (sid: string) => `sid:${sid}`,
  mark: KEY.mark,
  keyset: KEY.keyset,
} as const;
