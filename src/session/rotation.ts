/** How long a finished rotation is remembered for requests racing it (ms). */
const ROTATION_MEMORY = 1_000;

/**
 * A rotation that never settles (its request was cancelled mid-write) is
 * forgotten after this long (ms), so that no entry stays forever.
 */
const ROTATION_GIVE_UP = 30_000;

/** A rotation in progress (`settledAt` unset) or finished. */
type Entry<T> = { pending: Promise<T>; startedAt: number; settledAt?: number };

/**
 * De-duplicates rotations in one isolate: however many requests race at the
 * rotation boundary of one `sid:gen`, the write runs once and every request
 * gets its result (the successor is deterministic anyway, docs/rotation.md).
 *
 * A finished rotation stays {@link ROTATION_MEMORY} ms for requests that read
 * the session just before it landed. Entries are swept on the next rotation,
 * not by a timer: workerd cancels a request's timers once its response is
 * sent, so a `setTimeout` cleanup never ran and the map grew with every rotation.
 */
export function createRotations<T>(now: () => number) {
  const entries = new Map<string, Entry<T>>();
  let sweptAt = Number.NEGATIVE_INFINITY;

  /** Forgets what is old enough; at most once per {@link ROTATION_MEMORY}, not at every rotation of a busy isolate. */
  function sweep(at: number): void {
    if (at - sweptAt < ROTATION_MEMORY) return;
    sweptAt = at;
    for (const [key, entry] of entries) {
      const forgotten = entry.settledAt === undefined ? at - entry.startedAt >= ROTATION_GIVE_UP : at - entry.settledAt >= ROTATION_MEMORY;
      if (forgotten) entries.delete(key);
    }
  }

  return {
    /** Runs `write` for `key` unless a rotation of that key is running or just finished; resolves its result. */
    once(key: string, write: () => Promise<T>): Promise<T> {
      const at = now();
      sweep(at);
      const known = entries.get(key);
      if (known) return known.pending;
      const entry: Entry<T> = { startedAt: at, pending: write() };
      void entry.pending.then(
        () => (entry.settledAt = now()),
        () => (entry.settledAt = now()),
      );
      entries.set(key, entry);
      return entry.pending;
    },
  };
}
