import type { ObjectRows } from "./durable-tables";

/**
 * What the Worker sends to write a session: the record as the JSON text every
 * backend stores, the fields the object compares on (generation, current
 * token), the token's pointer text, and the TTL in ms.
 */
export interface SessionWrite {
  record: string;
  sid: string;
  gen: number;
  tokenHash: string;
  pointer: string;
  ttl: number;
}

/** What a token look-up finds in its user's object: the texts the Worker decodes (store/record.ts). */
export interface Found {
  pointer: string;
  session: string | null;
  revoked: boolean;
}

/** One session to revoke, and how long its mark must last (ms). */
export interface RevokeItem {
  sid: string;
  ttl: number;
}

/** Where a rotation stands: to be written, already written by a racing request, or refused (revoked, ended, moved on). */
export type Standing = "write" | "done" | "refused";

/** Revocation marks in force: a session row is live while unexpired and not among them. */
const REVOKED = "SELECT sid FROM revoked WHERE expires > ?";

/**
 * The rows of a user's object (its sessions, every token of them, its
 * revocation marks) and the single-object transactions over them. Every
 * function here is synchronous: a Durable Object runs one event at a time and
 * none of these awaits, so each is atomic without a lock; store/durable-object.ts
 * adds the directory writes around them.
 */
export function createUserRows({ sql, tables, transaction, schedule, now }: ObjectRows) {
  const rows = <T extends Record<string, SqlStorageValue>>(query: string, ...bindings: unknown[]) => sql.exec<T>(query, ...bindings).toArray();

  /** Writes a token pointer; pointers are immutable, so a repeat writes the same row. */
  const writeToken = (write: SessionWrite, expires: number) =>
    sql.exec("INSERT OR REPLACE INTO tokens (hash, sid, pointer, expires) VALUES (?, ?, ?, ?)", write.tokenHash, write.sid, write.pointer, expires);

  /** The live session row of `sid`: its generation and current token. */
  function current(sid: string): { gen: number; token_hash: string } | undefined {
    if (!tables.has("sessions")) return undefined;
    const t = now();
    return rows<{ gen: number; token_hash: string }>(
      `SELECT gen, token_hash FROM sessions WHERE sid = ? AND expires > ? AND sid NOT IN (${REVOKED})`,
      sid,
      t,
      t,
    )[0];
  }

  return {
    /** The token's pointer, its session and whether the session is revoked, in one statement; `null` for a token this user never had. */
    lookup(tokenHash: string): Found | null {
      if (!tables.has("tokens")) return null;
      const t = now();
      const [row] = rows<{ pointer: string; record: string | null; revoked: string | null }>(
        `SELECT t.pointer, s.record, r.sid AS revoked FROM tokens t
         LEFT JOIN sessions s ON s.sid = t.sid AND s.expires > ?
         LEFT JOIN revoked r ON r.sid = t.sid AND r.expires > ?
         WHERE t.hash = ? AND t.expires > ?`,
        t,
        t,
        tokenHash,
        t,
      );
      return row ? { pointer: row.pointer, session: row.record, revoked: row.revoked !== null } : null;
    },

    /** A live session's record text, or `null`. */
    session(sid: string): string | null {
      if (!tables.has("sessions")) return null;
      const t = now();
      return (
        rows<{ record: string }>(`SELECT record FROM sessions WHERE sid = ? AND expires > ? AND sid NOT IN (${REVOKED})`, sid, t, t)[0]?.record ??
        null
      );
    },

    /** Every live session's record text. */
    list(): string[] {
      if (!tables.has("sessions")) return [];
      const t = now();
      return rows<{ record: string }>(`SELECT record FROM sessions WHERE expires > ? AND sid NOT IN (${REVOKED})`, t, t).map((row) => row.record);
    },

    /** Writes a new session and its first token, in one transaction. */
    create(write: SessionWrite): void {
      tables.ensure("user");
      const expires = now() + write.ttl;
      transaction(() => {
        writeToken(write, expires);
        sql.exec(
          "INSERT OR REPLACE INTO sessions (sid, record, gen, token_hash, expires) VALUES (?, ?, ?, ?, ?)",
          write.sid,
          write.record,
          write.gen,
          write.tokenHash,
          expires,
        );
      });
      schedule(expires);
    },

    /** Compare-and-set, the compare: where a rotation to `write` stands against the stored session. */
    standing(write: SessionWrite): Standing {
      const row = current(write.sid);
      if (!row) return "refused";
      if (row.gen === write.gen && row.token_hash === write.tokenHash) return "done";
      return row.gen === write.gen - 1 ? "write" : "refused";
    },

    /** Compare-and-set, the set: the new token's pointer and the session naming it, in one transaction. Call after `standing` said "write". */
    rotate(write: SessionWrite): void {
      const expires = now() + write.ttl;
      transaction(() => {
        writeToken(write, expires);
        sql.exec(
          "UPDATE sessions SET record = ?, gen = ?, token_hash = ?, expires = ? WHERE sid = ?",
          write.record,
          write.gen,
          write.tokenHash,
          expires,
          write.sid,
        );
      });
      schedule(expires);
    },

    /** Rewrites a live session of the same generation (a touch); anything else is left alone. */
    update(write: SessionWrite): void {
      if (current(write.sid)?.gen !== write.gen) return;
      const expires = now() + write.ttl;
      sql.exec("UPDATE sessions SET record = ?, expires = ? WHERE sid = ? AND gen = ?", write.record, expires, write.sid, write.gen);
      schedule(expires);
    },

    /** Marks sessions revoked and deletes them, in one transaction. A mark is only ever extended, never shortened. */
    revoke(items: RevokeItem[]): void {
      tables.ensure("user");
      const t = now();
      transaction(() => {
        for (const { sid, ttl } of items) {
          sql.exec(
            "INSERT INTO revoked (sid, mark, expires) VALUES (?, '1', ?) ON CONFLICT (sid) DO UPDATE SET expires = max(expires, excluded.expires)",
            sid,
            t + ttl,
          );
          sql.exec("DELETE FROM sessions WHERE sid = ?", sid);
        }
      });
      for (const { ttl } of items) schedule(t + ttl);
    },
  };
}
