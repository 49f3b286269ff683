/**
 * The draft's "Send request" algorithm for registration and refresh requests,
 * with "Create session" on success. Status handling follows the draft, not
 * Chrome (docs/dbsc.md says where Chrome 156 differs).
 */
import type { CookieJar } from "./cookies";
import { serializeString } from "./sf";
import { createSession, type DbscSession, type SessionConfig } from "./session";

/** One registration or refresh request the client sent. */
export interface Exchange {
  phase: "registration" | "refresh";
  path: string;
  /** The DBSC request headers sent (Cookie excluded). */
  headers: Record<string, string>;
  /** The proof JWT (bare), if one was sent. */
  proof?: string;
  /** The response status, or 0 for a network error. */
  status: number;
}

/** What became of a registration. */
export type RegisterOutcome =
  | { kind: "registered"; status: number; session: DbscSession; config: SessionConfig; response: Response }
  | { kind: "failed"; reason: string; status?: number; config?: SessionConfig; response?: Response };

/** What became of a refresh: the session refreshed, kept as it was, or terminated. */
export type RefreshOutcome =
  | { kind: "refreshed"; status: number; configChanged: boolean; config?: SessionConfig; response: Response }
  | {
      kind: "kept";
      reason: "network-error" | "proxy-or-rate-limit" | "redirect" | "challenge-rejected" | "server-error" | "no-credential-can-be-set";
      status?: number;
      response?: Response;
    }
  | { kind: "terminated"; reason: string; status?: number; config?: SessionConfig; response?: Response }
  | { kind: "no-session" };

/** What {@link sendSessionRequest} needs from the client. */
export interface SessionRequestContext {
  readonly origin: URL;
  readonly wire: "draft" | "chrome";
  readonly cookies: CookieJar;
  readonly exchanges: Exchange[];
  readonly maxChallengeRetries: number;
  session: DbscSession | undefined;
  setConfig(config: SessionConfig | undefined): void;
  send(url: URL, init: RequestInit & { headers: Headers }): Promise<Response>;
  signProof(challenge: string, options?: { jwk?: boolean; authorization?: string }): Promise<string>;
  processChallenges(response: Response, url: URL): void;
}

/** Inputs of "Send request": a null `sessionId` means registration. */
export interface SessionRequest {
  destination: URL;
  sessionId: string | null;
  challenge: string | null;
  authorization: string | null;
}

/** Runs "Send request" (and "Create session"), answering up to `maxChallengeRetries` 403s with the cached challenge. */
export async function sendSessionRequest(ctx: SessionRequestContext, req: SessionRequest): Promise<RegisterOutcome | RefreshOutcome> {
  const registration = req.sessionId === null;
  const sf = (s: string) => (ctx.wire === "draft" ? serializeString(s) : s);
  const terminate = () => {
    if (req.sessionId !== null && ctx.session?.id === req.sessionId) ctx.session = undefined;
  };
  let challenge = req.challenge;
  for (let challenges = 0; ; challenges++) {
    const headers = new Headers({ Origin: ctx.origin.origin });
    let proof: string | undefined;
    if (challenge !== null || req.authorization !== null) {
      // A proof only at registration carries the key; a refresh proof carries neither jwk nor authorization.
      proof = await ctx.signProof(challenge ?? "", {
        jwk: registration,
        authorization: registration ? (req.authorization ?? undefined) : undefined,
      });
      headers.set("Secure-Session-Response", sf(proof));
    }
    if (req.sessionId !== null) headers.set("Sec-Secure-Session-Id", sf(req.sessionId));
    if (registration && req.authorization !== null && ctx.wire === "draft") headers.set("Authorization", req.authorization);
    const exchange: Exchange = {
      phase: registration ? "registration" : "refresh",
      path: req.destination.pathname + req.destination.search,
      headers: Object.fromEntries(headers),
      proof,
      status: 0,
    };
    ctx.exchanges.push(exchange);
    let res: Response;
    try {
      res = await ctx.send(req.destination, { method: "POST", headers });
    } catch {
      return registration ? { kind: "failed", reason: "network-error" } : { kind: "kept", reason: "network-error" };
    }
    const status = (exchange.status = res.status);
    if (status === 407 || status === 429 || (status >= 300 && status < 400)) {
      const reason = status >= 400 ? "proxy-or-rate-limit" : "redirect";
      return registration ? { kind: "failed", reason, status, response: res } : { kind: "kept", reason, status, response: res };
    }
    if (status === 403) {
      const s = ctx.session;
      if (registration || !s || s.id !== req.sessionId) return { kind: "failed", reason: "403", status, response: res };
      if (challenges >= ctx.maxChallengeRetries) return { kind: "kept", reason: "challenge-rejected", status, response: res };
      challenge = s.cachedChallenge; // "restart this algorithm ... replacing challenge with session's cached challenge"
      continue;
    }
    if (status >= 400 && status < 500) {
      terminate();
      return registration
        ? { kind: "failed", reason: `${status}`, status, response: res }
        : { kind: "terminated", reason: `${status}`, status, response: res };
    }
    if (status >= 500) {
      return registration
        ? { kind: "failed", reason: "server-error", status, response: res }
        : { kind: "kept", reason: "server-error", status, response: res };
    }
    const body = await res.text();
    if (!registration && body === "") return { kind: "refreshed", status, configChanged: false, response: res };
    const created = createSession(body, req.destination, req.sessionId, ctx.wire === "chrome");
    ctx.setConfig(created.config);
    if (!created.ok) {
      if (created.terminate) terminate();
      if (registration) return { kind: "failed", reason: created.reason, status, config: created.config, response: res };
      return created.terminate
        ? { kind: "terminated", reason: created.reason, status, config: created.config, response: res }
        : { kind: "kept", reason: "no-credential-can-be-set", status, response: res };
    }
    ctx.session = created.session; // replaces (terminates) an existing session with this id
    ctx.processChallenges(res, req.destination);
    return registration
      ? { kind: "registered", status, session: created.session, config: created.config, response: res }
      : { kind: "refreshed", status, configChanged: true, config: created.config, response: res };
  }
}
