import { sha256 } from "../util/encoding";

/**
 * Key prefixes shared by every backend; docs/storage-schema.md documents each
 * one with its value shape and TTL.
 */
export const KEY = {
  token: (tokenHash: string) => `tok:${tokenHash}`,
  session: (sid: string) => `ses:${sid}`,
  revoked: (sid: string) => `rev:${sid}`,
  /** The user's index is keyed by a hash of `sub`: any `sub` fits, and no prefix of one user's keys is another's. */
  userPrefix: async (sub: string) => `usr:${await sha256(sub)}:`,
  /** A mark (putMark, claimMark): callers keep their keys short and hash what is not theirs. */
  mark: (key: string) => `mrk:${key}`,
  /** The one assertion keyset record; no TTL. */
  keyset: "kst:assertion",
} as const;
