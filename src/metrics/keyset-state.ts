import { type KeyPeriods, keyState, ordered, parseKeyset, signingKey } from "../assertion/keyset";
import type { KeysetStore } from "../store/types";

/** One assertion key as the admin health report shows it. */
export interface KeyReport {
  kid: string;
  state: "next" | "active" | "retired" | "removed";
  /** ISO 8601; `null` for the genesis key, which exists from the start. */
  created_at: string | null;
  activates_at: string | null;
}

/** The assertion keyset as stored: which key signs now, when the next one takes over, every key's state. */
export interface KeysetReport {
  signing: string | null;
  next_activation: string | null;
  keys: KeyReport[];
}

const iso = (time: number): string | null => (time > 0 ? new Date(time).toISOString() : null);

/**
 * The keyset's state at `now`, read from the store (docs/assertion.md): what
 * every isolate converges on within a minute, which the cron rotates. A store
 * with no keyset yet (the first signature writes it) reports no keys. A store
 * outage rejects.
 */
export async function keysetState(store: Pick<KeysetStore, "readKeyset">, now: number, periods: Pick<KeyPeriods, "retain">): Promise<KeysetReport> {
  const text = await store.readKeyset();
  const keyset = text === null ? undefined : parseKeyset(text);
  if (!keyset) return { signing: null, next_activation: null, keys: [] };
  const next = ordered(keyset.keys).find((key) => key.activatesAt > now);
  return {
    signing: signingKey(keyset, now).kid,
    next_activation: next ? iso(next.activatesAt) : null,
    keys: ordered(keyset.keys).map((key) => ({
      kid: key.kid,
      state: keyState(keyset, key, now, periods.retain),
      created_at: iso(key.createdAt),
      activates_at: iso(key.activatesAt),
    })),
  };
}
