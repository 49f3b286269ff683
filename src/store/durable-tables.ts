/**
 * The SQLite tables of a `GatehouseSessions` object (docs/storage-schema.md,
 * "Durable Objects"). Every object is of the one class; its name says its
 * role, and an object only ever creates the tables of the roles it serves, on
 * its first write: a read (a look-up of a user nobody created) never allocates
 * storage, so it never leaves an empty object behind.
 *
 * Times in `expires` are the object's own clock (Unix ms). Every read filters
 * on `expires > now`, so a row is gone at its TTL exactly; the alarm deletes it later.
 */
const DDL = {
  sessions:
    "CREATE TABLE IF NOT EXISTS sessions (sid TEXT PRIMARY KEY, record TEXT NOT NULL, gen INTEGER NOT NULL, token_hash TEXT NOT NULL, expires INTEGER NOT NULL)",
  tokens: "CREATE TABLE IF NOT EXISTS tokens (hash TEXT PRIMARY KEY, sid TEXT NOT NULL, pointer TEXT NOT NULL, expires INTEGER NOT NULL)",
  revoked: "CREATE TABLE IF NOT EXISTS revoked (sid TEXT PRIMARY KEY, mark TEXT NOT NULL, expires INTEGER NOT NULL)",
  // `expires` is NULL for a row kept for ever (the assertion keyset).
  entries: "CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires INTEGER)",
  hits: "CREATE TABLE IF NOT EXISTS hits (slot INTEGER PRIMARY KEY, count INTEGER NOT NULL, expires INTEGER NOT NULL)",
} as const;

/** A table of the schema. */
export type Table = keyof typeof DDL;

/** What each role of object stores: a user's sessions, directory and keyset entries, a limiter's counts. */
export const ROLE_TABLES = {
  user: ["sessions", "tokens", "revoked"],
  entries: ["entries"],
  hits: ["hits"],
} as const satisfies Record<string, readonly Table[]>;

/** A role of object. */
export type Role = keyof typeof ROLE_TABLES;

/** What a sweep left behind: the earliest expiry still stored, and whether anything is stored at all. */
export interface Swept {
  next: number | null;
  empty: boolean;
}

/**
 * The tables one object has, over its SQL storage. `has` is what reads check
 * (no table: nothing stored); `ensure` is what writes call first.
 */
export function createTables(sql: SqlStorage) {
  const present = new Set<Table>();

  return {
    /** Reads which tables exist; run by the constructor under `blockConcurrencyWhile`. */
    load(): void {
      present.clear();
      for (const { name } of sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")) {
        if (name in DDL) present.add(name as Table);
      }
    },
    has: (table: Table) => present.has(table),
    /** Creates the tables of `role` if this object has none yet. */
    ensure(role: Role): void {
      for (const table of ROLE_TABLES[role]) {
        if (present.has(table)) continue;
        sql.exec(DDL[table]);
        present.add(table);
      }
    },
    /** Deletes every expired row; says what is left. */
    sweep(now: number): Swept {
      let next: number | null = null;
      let empty = true;
      for (const table of present) {
        sql.exec(`DELETE FROM ${table} WHERE expires <= ?`, now);
        const left = sql.exec<{ rows: number; next: number | null }>(`SELECT count(*) AS rows, min(expires) AS next FROM ${table}`).one();
        if (left.rows > 0) empty = false;
        if (left.next !== null && (next === null || left.next < next)) next = left.next;
      }
      return { next, empty };
    },
    /** Forgets every table, after `deleteAll()` dropped them. */
    forget: () => present.clear(),
  };
}

/** The tables of one object. */
export type Tables = ReturnType<typeof createTables>;

/**
 * The shortest gap between two sweeps of one object (ms). A sweep reads every
 * row of the object; reads cost a thousandth of writes, an index on `expires`
 * would add a row written to every write, so sweeps are batched instead.
 */
export const SWEEP_GAP = 60 * 60_000;

/**
 * The object's one alarm, as the sweep of its expired rows: kept at or before
 * the earliest expiry it holds (but at least {@link SWEEP_GAP} ahead), so no
 * row outlives its TTL by more than that gap. An object the sweep leaves empty
 * deletes all of its storage, which frees it.
 */
export function createSweeper(ctx: DurableObjectState, tables: Tables, now: () => number) {
  let alarmAt: number | null = null;

  /** Makes sure a sweep comes after `expires`; a write only when the alarm must move earlier. */
  function schedule(expires: number): void {
    const at = Math.max(expires, now() + SWEEP_GAP);
    if (alarmAt !== null && alarmAt <= at) return;
    alarmAt = at;
    void ctx.storage.setAlarm(at);
  }

  return {
    schedule,
    /** Reads the alarm already set; run by the constructor under `blockConcurrencyWhile`. */
    async load(): Promise<void> {
      alarmAt = await ctx.storage.getAlarm();
    },
    /** The alarm: deletes what expired, then sets the next sweep or frees the object. */
    async sweep(): Promise<void> {
      alarmAt = null;
      // Blocked, so that no write lands between finding the object empty and deleting it.
      await ctx.blockConcurrencyWhile(async () => {
        const { next, empty } = tables.sweep(now());
        if (next !== null) schedule(next);
        if (!empty) return;
        await ctx.storage.deleteAll();
        tables.forget();
      });
    },
  };
}

/** What the row modules of an object work with: its SQL, its tables, one transaction, the sweep and the clock. */
export interface ObjectRows {
  sql: SqlStorage;
  tables: Tables;
  transaction: <T>(work: () => T) => T;
  schedule: (expires: number) => void;
  now: () => number;
}
