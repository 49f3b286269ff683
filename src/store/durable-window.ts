import type { ObjectRows } from "./durable-tables";

/** A limiter object's answer: whether the request is within the limit, what is left, and when the current window ends (caller's clock, Unix ms). */
export interface Hit {
  success: boolean;
  remaining: number;
  reset: number;
}

/** A window's count is kept two windows and a second (as @upstash/ratelimit's PEXPIRE), for the sweep. */
const keepFor = (period: number) => 2 * period + 1_000;

/**
 * The sliding window of @upstash/ratelimit's `slidingWindow`, in one limiter
 * object: the count of the current fixed window plus the previous window's
 * count weighted by how much of it the sliding window still covers (rounded
 * down), refused at `limit` without counting the refused request. Windows are
 * numbered on the caller's clock (`at`), as the library's are on the Worker's;
 * `expires` is the object's own clock and only feeds the sweep.
 */
export function createWindowRows({ sql, tables, schedule, now }: ObjectRows) {
  return {
    hit(limit: number, period: number, at: number): Hit {
      tables.ensure("hits");
      const slot = Math.floor(at / period);
      const counts = new Map(
        sql
          .exec<{ slot: number; count: number }>("SELECT slot, count FROM hits WHERE slot >= ?", slot - 1)
          .toArray()
          .map((r) => [r.slot, r.count]),
      );
      const current = counts.get(slot) ?? 0;
      const previous = Math.floor((1 - (at % period) / period) * (counts.get(slot - 1) ?? 0));
      const reset = (slot + 1) * period;
      if (previous + current >= limit) return { success: false, remaining: 0, reset };
      const expires = now() + keepFor(period);
      sql.exec(
        "INSERT INTO hits (slot, count, expires) VALUES (?, 1, ?) ON CONFLICT (slot) DO UPDATE SET count = count + 1, expires = excluded.expires",
        slot,
        expires,
      );
      sql.exec("DELETE FROM hits WHERE slot < ?", slot - 1);
      schedule(expires);
      return { success: true, remaining: limit - (previous + current + 1), reset };
    },
  };
}
