import type { ObjectRows } from "./durable-tables";

/**
 * The `entries` table of directory shards and of the keyset object: small
 * texts under a key, each with its own TTL (or none, for the keyset). Used for
 * the immutable pointers token → user object and sid → user object, for marks,
 * and for the assertion keyset. Synchronous, hence atomic within the object.
 */
export function createEntryRows({ sql, tables, schedule, now }: ObjectRows) {
  /** The live value under `key`, or `null`. */
  function read(key: string): string | null {
    if (!tables.has("entries")) return null;
    const [row] = sql.exec<{ value: string }>("SELECT value FROM entries WHERE key = ? AND (expires IS NULL OR expires > ?)", key, now()).toArray();
    return row?.value ?? null;
  }

  /** Writes `value` under `key` for `ttl` ms (`null`: for ever), replacing what was there. */
  function put(key: string, value: string, ttl: number | null): void {
    tables.ensure("entries");
    const expires = ttl === null ? null : now() + ttl;
    sql.exec(
      "INSERT INTO entries (key, value, expires) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires",
      key,
      value,
      expires,
    );
    if (expires !== null) schedule(expires);
  }

  return {
    read,
    put,
    /** Writes `key` only when it holds nothing live; `true` when this call wrote it. Atomic: nothing runs between the read and the write. */
    claim(key: string, ttl: number): boolean {
      if (read(key) !== null) return false;
      put(key, "1", ttl);
      return true;
    },
  };
}
