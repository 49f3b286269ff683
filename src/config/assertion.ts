import type { Config } from "./types";
import { type Problems, readDuration, readTable } from "./problems";

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

/**
 * Reads `GATE.assertion`: how often the signing key of `X-Gate-Assertion`
 * rotates (`rotate_every`, default 7 d), how long a new key is published
 * before it signs (`publish_ahead`, 1 h) and how long a retired key stays
 * published after it stopped signing (`retain`, 1 h).
 */
export function readAssertion(problems: Problems, value: unknown): Config["assertion"] {
  const raw = readTable(problems, "GATE.assertion", value, ["rotate_every", "publish_ahead", "retain"]);
  const assertion = {
    rotateEvery: readDuration(problems, "GATE.assertion.rotate_every", raw.rotate_every, "7d", ASSERTION_MINIMUMS.rotateEvery),
    publishAhead: readDuration(problems, "GATE.assertion.publish_ahead", raw.publish_ahead, "1h", ASSERTION_MINIMUMS.publishAhead),
    retain: readDuration(problems, "GATE.assertion.retain", raw.retain, "1h", ASSERTION_MINIMUMS.retain),
  };
  if (assertion.publishAhead >= assertion.rotateEvery) {
    problems.add("GATE.assertion.publish_ahead", "must be shorter than GATE.assertion.rotate_every");
  }
  return assertion;
}
