import { Hono } from "hono";
import type { Config } from "../config/types";
import type { GateEnv } from "../http/context";
import type { FailedAuth } from "../http/failed-auth";
import type { SessionManager } from "../session/manager";
import { GateError } from "../errors";
import { identityFrom } from "../session/login";
import { parseDuration } from "../config/duration";
import { sha256 } from "../util/encoding";
import { listedView } from "./views";

/** Dependencies of the admin API. */
export interface AdminOptions {
  config: Config;
  sessions: SessionManager;
  /** Refused admin tokens count toward `failed_auth`, as refused session tokens do. */
  failedAuth: FailedAuth;
}

/** The longest bearer session the admin API issues. */
const MAX_TTL = 365 * 86_400_000;

/**
 * Compares the presented bearer token with GATE_ADMIN_TOKEN in constant time:
 * both are hashed first, so neither their contents nor their lengths leak
 * through timing.
 */
export async function isAdmin(header: string | undefined, expected: string): Promise<boolean> {
  const presented = /^Bearer (.+)$/.exec(header ?? "")?.[1] ?? "";
  const [a, b] = await Promise.all([sha256(presented), sha256(expected)]);
  const left = new TextEncoder().encode(a);
  const right = new TextEncoder().encode(b);
  return crypto.subtle.timingSafeEqual(left, right) && presented.length > 0;
}

/** Reads `ttl` as a duration (`"30d"`) or seconds; defaults to the absolute timeout. */
function ttlOf(value: unknown, fallback: number): number | undefined {
  if (value === undefined) return fallback;
  const ms = typeof value === "number" && Number.isInteger(value) ? value * 1_000 : parseDuration(value);
  return ms !== undefined && ms >= 1_000 && ms <= MAX_TTL ? ms : undefined;
}

/**
 * The 401 of the admin API, shaped as RFC 6750 §3 (and hono/bearer-auth) shape
 * it. Hand-written rather than hono/bearer-auth itself: that middleware answers
 * 400 to a token outside RFC 6750's token68 alphabet, and GATE_ADMIN_TOKEN may
 * be any 32+ bytes, while the contract says 401 for anything but the right token.
 */
const ADMIN_CHALLENGE = { "WWW-Authenticate": 'Bearer realm="gatehouse-admin", error="invalid_token"' };

/**
 * The admin API (contract §6, §14), mounted under `/_gate/admin`. It answers
 * 404 when GATE_ADMIN_TOKEN is unset, and 401 to anything but the right
 * bearer token (429 once the address is past `failed_auth`). No answer may be
 * stored anywhere: one of them carries a new bearer token.
 */
export function admin(options: AdminOptions) {
  const { config, sessions, failedAuth } = options;
  const app = new Hono<GateEnv>();
  app.use("*", async function adminAuth(c, next) {
    if (!config.secrets.admin) throw new GateError("not_found");
    const header = c.req.header("authorization");
    if (!(await isAdmin(header, config.secrets.admin))) {
      if (header !== undefined) await failedAuth.record(c, undefined);
      throw new GateError("unauthenticated", ADMIN_CHALLENGE);
    }
    await next();
    c.res.headers.set("Cache-Control", "no-store");
  });

  app.post("/sessions", async (c) => {
    const body = await c.req.json().catch(() => undefined);
    if (typeof body !== "object" || body === null || Array.isArray(body)) throw new GateError("bad_request");
    const identity = identityFrom(body);
    const ttl = ttlOf((body as { ttl?: unknown }).ttl, config.session.absoluteTimeout);
    if ("reason" in identity || ttl === undefined) throw new GateError("bad_request");
    const { token, session } = await sessions.issueBearer(identity, ttl);
    return c.json({ token, sid: session.sid, expires_at: Math.floor(session.expiresAt / 1_000) }, 201);
  });

  app.get("/users/:sub/sessions", async (c) => c.json({ sessions: (await sessions.list(c.req.param("sub"))).map((s) => listedView(s)) }));

  app.delete("/sessions/:sid", async (c) => {
    const target = await sessions.get(c.req.param("sid"));
    if (!target) throw new GateError("not_found");
    await sessions.revoke(target, "admin");
    return c.body(null, 204);
  });

  app.delete("/users/:sub/sessions", async (c) => {
    const count = await sessions.revokeUser(c.req.param("sub"), "admin");
    return c.json({ revoked: count });
  });

  return app;
}
