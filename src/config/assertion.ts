const HOUR = 3_600_000;
const MINUTE = 60_000;

/**
 * Lower bounds of `GATE.assertion`, from the delays a key change must outlast
 * (docs/assertion.md): a gate's view of the keyset may be up to 6 minutes old
 * (KV propagation ≤ 1 m, plus an isolate reading it in the background for up to
 * 5 m), and a verifier may keep a JWKS for its max-age (5 m).
 */
export const ASSERTION_MINIMUMS = {
  /** The cron runs hourly (wrangler.toml `[triggers]`); rotating faster would not happen anyway. */
  rotateEvery: HOUR,
  /** ≥ 6 m (every gate sees the new key) + 5 m (every JWKS cache holds it), with margin. */
  publishAhead: 15 * MINUTE,
  /** ≥ 6 m (the last stale signer stops) + 1 m (its last assertion expires), with margin. */
  retain: 10 * MINUTE,
} as const;
