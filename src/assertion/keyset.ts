/**
 * The assertion keyset: one record in the session store (`kst:assertion`,
 * docs/storage-schema.md), and the schedule that says, for any instant, which
 * key signs and which are published. Everything here is a pure function of the
 * keyset and the clock, so every isolate that holds the same keyset at the same
 * time agrees, without talking to the others.
 *
 * A key's life (docs/assertion.md):
 *
 *   created ──publish_ahead──► activatesAt ──(next key activates)──► retired ──retain──► removed
 *   └─────────── published in /_gate/jwks.json from creation until removal ───────────┘
 *                                └──── signs ────┘
 */

/** One key as stored: the public half in clear, the private seed sealed under GATE_SECRET. Times in Unix ms. */
export interface StoredKey {
  kid: string;
  /** Ed25519 public key, base64url (JWK `x`). */
  x: string;
  createdAt: number;
  /** When it starts signing; the genesis key has 0. */
  activatesAt: number;
  /** base64url(IV ‖ AES-256-GCM(seed) ‖ tag); see material.ts. */
  sealed: string;
}

/** The stored record. */
export interface Keyset {
  v: 1;
  keys: StoredKey[];
}

/** Where a key is in its life at a given instant. */
export type KeyState = "next" | "active" | "retired" | "removed";

/** The periods of `GATE.assertion`, in ms. */
export interface KeyPeriods {
  rotateEvery: number;
  publishAhead: number;
  retain: number;
}

const isTime = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value) && value >= 0;
const isText = (value: unknown): value is string => typeof value === "string" && value.length > 0;

/** Parses the stored text; `undefined` for anything that is not exactly a keyset (refused, never half-trusted). */
export function parseKeyset(text: string): Keyset | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const record = value as Partial<Keyset> | null;
  if (typeof record !== "object" || record === null || record.v !== 1 || !Array.isArray(record.keys)) return undefined;
  const keys = record.keys.filter(
    (k: Partial<StoredKey>) => isText(k?.kid) && isText(k.x) && isText(k.sealed) && isTime(k.createdAt) && isTime(k.activatesAt),
  );
  return keys.length === record.keys.length && keys.length > 0 ? { v: 1, keys: ordered(keys) } : undefined;
}

/** Keys by activation time, kid breaking ties, so every isolate reads them in the same order. */
export function ordered(keys: readonly StoredKey[]): StoredKey[] {
  return [...keys].sort((a, b) => a.activatesAt - b.activatesAt || (a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0));
}

/**
 * The key that signs at `now`: the last to have activated. A clock behind
 * every activation (skew, a keyset written by a clock ahead) gets the first
 * key rather than none.
 */
export function signingKey(keyset: Keyset, now: number): StoredKey {
  const keys = ordered(keyset.keys);
  return keys.findLast((key) => key.activatesAt <= now) ?? keys[0];
}

/** A key's state at `now`: it is retired when the next key activates, removed `retain` later. */
export function keyState(keyset: Keyset, key: StoredKey, now: number, retain: number): KeyState {
  if (key === signingKey(keyset, now)) return "active";
  if (key.activatesAt > now) return "next";
  const keys = ordered(keyset.keys);
  const retiredAt = keys[keys.indexOf(key) + 1].activatesAt;
  return now < retiredAt + retain ? "retired" : "removed";
}

/** The keys `/_gate/jwks.json` lists at `now`: every key not yet removed, the signing one first. */
export function publishedKeys(keyset: Keyset, now: number, retain: number): StoredKey[] {
  const active = signingKey(keyset, now);
  const rest = ordered(keyset.keys).filter((key) => key !== active && keyState(keyset, key, now, retain) !== "removed");
  return [active, ...rest.reverse()];
}

/**
 * What the cron does to the keyset at `now`: drop removed keys and, once the
 * signing key has served `rotate_every` less `publish_ahead`, schedule a
 * successor that activates `publish_ahead` from now at the earliest. Returns
 * the keys to keep and, when a key is due, when the new one activates.
 */
export function rotationPlan(keyset: Keyset, now: number, periods: KeyPeriods): { keep: StoredKey[]; activateNewAt?: number } {
  const keep = ordered(keyset.keys).filter((key) => keyState(keyset, key, now, periods.retain) !== "removed");
  if (keep.some((key) => key.activatesAt > now)) return { keep };
  const active = signingKey(keyset, now);
  if (now < active.activatesAt + periods.rotateEvery - periods.publishAhead) return { keep };
  return { keep, activateNewAt: Math.max(now + periods.publishAhead, active.activatesAt + periods.rotateEvery) };
}
