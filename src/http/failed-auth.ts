import type { Context } from "hono";
import type { Limiter } from "../config/types";
import { createLru } from "../util/lru";
import type { GateEnv } from "./context";
import type { LimitCheck } from "./limit";

/** Refused tokens remembered per isolate: hashes, about 100 bytes each. */
const REFUSED_TOKENS = 10_000;

/**
 * `failed_auth` (contract §1, §14): it counts requests whose credential was
 * refused, by client address, and past its limit answers 429 to *refused*
 * credentials only, so a guesser behind an office NAT cannot lock out the
 * colleagues whose sessions are valid. The guesser stays cheap to refuse: a
 * token already refused once is refused again from memory, with no look-up,
 * while its address is over the limit.
 */
export function createFailedAuth(limiter: Limiter | undefined, limit: LimitCheck, now: () => number) {
  const refused = createLru<string, number>(REFUSED_TOKENS);
  return {
    /** Throws the 429 without a look-up when `tokenHash` was refused before and its address is over the limit. */
    refuseRepeat(c: Context<GateEnv>, tokenHash: string | undefined): void {
      if (!limiter || tokenHash === undefined) return;
      const until = refused.get(tokenHash);
      if (until !== undefined && until > now()) limit.refuseIfKnown(c, limiter, c.get("clientKey"));
    },

    /** Counts one refused credential (remembering its token); throws the 429 when the address is over the limit. */
    async record(c: Context<GateEnv>, tokenHash: string | undefined): Promise<void> {
      if (!limiter) return;
      if (tokenHash !== undefined) refused.set(tokenHash, now() + limiter.period);
      await limit.check(c, limiter, c.get("clientKey"));
    },
  };
}

/** Counting refused credentials. */
export type FailedAuth = ReturnType<typeof createFailedAuth>;
