import type { Context } from "hono";
import type { GateEnv } from "../http/context";
import type { Logger } from "../log";
import { verifyLogin } from "../session/login";
import type { LogoutScope, Transitions } from "../session/transitions";
import { utf8 } from "../util/encoding";

/** Dependencies of {@link readOriginInstructions}. */
export interface InstructionOptions {
  /** GATE_ORIGIN_SECRET: the HS256 key of `X-Gate-Login`. */
  originSecret: string;
  transitions: Transitions;
  log: Logger;
  now: () => number;
}

/**
 * Carries out the origin's `X-Gate-Logout` and `X-Gate-Login` (contract §3).
 * The headers themselves never reach the client: the outermost middleware
 * removes every `x-gate-*` response header. A login is verified before
 * anything ends: an invalid one is ignored as a whole (and logged), and must
 * not cost the user the session they already have.
 */
export async function readOriginInstructions(c: Context<GateEnv>, response: Response, options: InstructionOptions): Promise<void> {
  const { transitions, log, now } = options;
  const login = response.headers.get("x-gate-login");
  const logout = response.headers.get("x-gate-logout")?.trim().toLowerCase();
  if (login === null && logout === undefined) return;
  const scope: LogoutScope | undefined = logout === "session" || logout === "user" ? logout : undefined;
  if (logout !== undefined && !scope) log("login.invalid", { reason: "unknown_logout_value", request_id: c.get("requestId") });
  const verified = login === null ? undefined : await verifyLogin(login, utf8(options.originSecret), now());
  if (verified && !verified.ok) log("login.invalid", { reason: verified.reason, request_id: c.get("requestId") });
  if (verified?.ok) await transitions.login(c, verified.identity, scope);
  else if (scope) await transitions.logout(c, scope);
}
