/**
 * Stateless DBSC challenges: the values the gate puts in
 * `Secure-Session-Registration`'s `challenge` and in `Secure-Session-Challenge`,
 * which a proof copies into its `jti` (draft §"DBSC Proof JWT Syntax",
 * §"Cache challenge"). Issuing or checking one writes nothing to the store.
 *
 * A challenge is `<t>.<mac>`: `t` the second it was issued (Unix seconds,
 * decimal, no leading zero) and `mac` = base64url HMAC-SHA256 over
 * `["gatehouse/dbsc-challenge/v1", purpose, sid, gen, t]` (JSON, so no two
 * inputs share an encoding) under a key derived from GATE_SECRET.
 *
 * Time window: the window is the issue second, carried in the challenge. It is
 * accepted while `now − t·1000 ≤ 300 000 ms`; since the true issue instant is
 * at or after `t·1000`, no challenge lives more than 5 minutes, and each one
 * lives (nearly) the full 5, whenever in a window it was issued (150 s windows
 * accepting the current and previous one give lifetimes anywhere from 150 to
 * 300 s, and need two MACs per check). One issued up to 5 s in the future (a
 * clock elsewhere in the fleet) is accepted; further ahead it is refused.
 *
 * Replay: the MAC covers the session's token generation, and an accepted
 * registration or refresh moves the generation on, so no proof's `jti` passes twice.
 */
import { base64url, fromBase64url, utf8 } from "../util/encoding";

/** What a challenge may be used for; one purpose's challenge never verifies for the other. */
export type ChallengePurpose = "registration" | "refresh";

/** The oldest challenge accepted, in ms. */
export const CHALLENGE_MAX_AGE_MS = 300_000;

/** How far in the future a challenge's issue second may be, in ms (clock skew between gate instances). */
export const CHALLENGE_MAX_SKEW_MS = 5_000;

/** The HKDF `info` the caller derives the challenge key with (src/derive.ts `hmacKey`, usages sign and verify). */
export const CHALLENGE_KEY_INFO = "gatehouse/dbsc-challenge/v1";

/** The challenge issuer and checker. */
export interface Challenges {
  /** A challenge for session `sid` at token generation `gen`, for one purpose. */
  issue(sid: string, gen: number, purpose: ChallengePurpose): Promise<string>;
  /** True only for a challenge this key issued for exactly (sid, gen, purpose), at most 5 minutes ago; false, never a throw, for any other text. */
  verify(challenge: unknown, sid: string, gen: number, purpose: ChallengePurpose): Promise<boolean>;
  /**
   * As {@link verify}, telling apart a challenge this key issued for exactly
   * (sid, gen, purpose) that has only expired: a browser re-sends the proof it
   * cached for the last challenge it got, which is routine, not an attack.
   */
  check(challenge: unknown, sid: string, gen: number, purpose: ChallengePurpose): Promise<ChallengeCheck>;
}

/** {@link Challenges.check}'s answer. */
export type ChallengeCheck = "valid" | "expired" | "invalid";

const CHALLENGE_PATTERN = /^(0|[1-9][0-9]{0,11})\.([A-Za-z0-9_-]{43})$/;
const PURPOSES: ReadonlySet<unknown> = new Set(["registration", "refresh"]);
const MAX_SID_LENGTH = 256;

const validInputs = (sid: unknown, gen: unknown, purpose: unknown) =>
  typeof sid === "string" &&
  sid.length > 0 &&
  sid.length <= MAX_SID_LENGTH &&
  Number.isSafeInteger(gen) &&
  (gen as number) >= 0 &&
  PURPOSES.has(purpose);

const macInput = (purpose: ChallengePurpose, sid: string, gen: number, t: number) => utf8(JSON.stringify([CHALLENGE_KEY_INFO, purpose, sid, gen, t]));

/**
 * Creates the challenge issuer over an HMAC-SHA256 `key` (derived by the caller
 * from GATE_SECRET with {@link CHALLENGE_KEY_INFO}) and an injected clock in epoch ms.
 */
export function createChallenges(key: CryptoKey, now: () => number): Challenges {
  async function check(challenge: unknown, sid: string, gen: number, purpose: ChallengePurpose): Promise<ChallengeCheck> {
    if (typeof challenge !== "string" || !validInputs(sid, gen, purpose)) return "invalid";
    const match = CHALLENGE_PATTERN.exec(challenge);
    if (!match) return "invalid";
    const t = Number(match[1]);
    const age = now() - t * 1000;
    if (age < -CHALLENGE_MAX_SKEW_MS) return "invalid";
    const mac = fromBase64url(match[2]);
    // A non-canonical last character decodes to the same bytes; refuse it so one MAC has one spelling.
    if (base64url(mac) !== match[2]) return "invalid";
    // crypto.subtle.verify compares in constant time.
    if (!(await crypto.subtle.verify("HMAC", key, mac, macInput(purpose, sid, gen, t)))) return "invalid";
    return age > CHALLENGE_MAX_AGE_MS ? "expired" : "valid";
  }

  return {
    async issue(sid, gen, purpose) {
      if (!validInputs(sid, gen, purpose)) throw new TypeError("challenge for an invalid sid, generation or purpose");
      const t = Math.floor(now() / 1000);
      const mac = await crypto.subtle.sign("HMAC", key, macInput(purpose, sid, gen, t));
      return `${t}.${base64url(mac)}`;
    },
    verify: async (challenge, sid, gen, purpose) => (await check(challenge, sid, gen, purpose)) === "valid",
    check,
  };
}
