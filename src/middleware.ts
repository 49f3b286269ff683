import type { Context, MiddlewareHandler } from "hono";
import type { Terminal } from "./app";
import type { Env } from "./config/env";
import { type GateOptions, buildGate, gateCache } from "./gate";
import type { GateEnv } from "./http/context";
import { identityFrom } from "./session/login";
import type { LogoutScope, Transitions } from "./session/transitions";
import type { SessionRecord } from "./store/types";
import { upstreamRequest } from "./proxy/upstream";

/** Who is calling, as `c.get("gate")` gives it to a handler; `null` on a public route without a session. */
export interface GateIdentity {
  sub: string;
  sid: string;
  roles: string[];
  /** When the user logged in, Unix seconds (as `X-Gate-Auth-Time`). */
  authTime: number;
  claims: Record<string, unknown>;
  /** The identity provider the session came from (`GATE.oidc.<name>`), absent for sessions the app logged in. */
  idp?: string;
}

/** What the middleware puts in `c.var`: type your app with `new Hono<{ Variables: GatehouseVariables }>()`. */
export interface GatehouseVariables {
  gate: GateIdentity | null;
}

/** What `login()` and `logout()` need of the gate's own view of the request. */
interface Internal {
  inner: Context<GateEnv>;
  transitions: Transitions;
}

/** The request's gate internals, by the outer (application's) context. */
const internals = new WeakMap<Context, Internal>();
/** The application's context and `next` of a request the gate is running, by its Request. */
const downstream = new WeakMap<Request, { outer: Context; next: () => Promise<void> }>();

const identityOf = (session: SessionRecord): GateIdentity => ({
  sub: session.sub,
  sid: session.sid,
  roles: session.roles,
  authTime: Math.floor(session.authTime / 1_000),
  claims: session.claims ?? {},
  ...(session.idp && { idp: session.idp }),
});

/**
 * The gate's last step in middleware mode: the application's handlers, with
 * the identity in `c.get("gate")` and the request as the origin would get
 * it (spoofable and gate headers stripped, identity headers set), so a
 * handler that reads `X-Gate-User` reads the gate's, not the client's.
 */
const toHandlers: Terminal = async (c, { transitions, config }) => {
  const entry = downstream.get(c.req.raw);
  if (!entry) throw new Error("gatehouse(): the request lost its application context");
  const { outer, next } = entry;
  const auth = c.get("auth");
  const session = auth?.status === "valid" ? auth.session : undefined;
  outer.set("gate", session ? identityOf(session) : null);
  internals.set(outer, { inner: c, transitions });
  outer.req.raw = upstreamRequest(c.req.url, {
    request: c.req.raw,
    path: c.get("path"),
    clientIp: c.get("clientIp"),
    cookieName: config.cookie.name,
    session,
    requestId: c.get("requestId"),
  });
  await next();
  return outer.res;
};

/**
 * The whole gate as Hono middleware, for a Worker that serves its own routes:
 * security headers, limits, the session, CSRF, the route policy of `GATE` and
 * the `/_gate/*` endpoints run in front of the app's handlers, which then get
 * the caller in `c.get("gate")`. Configured like the proxy (wrangler.toml
 * `[vars.GATE]`, the same secrets and store), without `ORIGIN_URL`.
 *
 * ```ts
 * const app = new Hono<{ Bindings: Env; Variables: GatehouseVariables }>();
 * app.use("*", gatehouse());
 * app.get("/dashboard", (c) => c.text(`hello ${c.get("gate")?.sub}`));
 * ```
 */
export function gatehouse(options: GateOptions = {}): MiddlewareHandler {
  const gateFor = gateCache((env) => buildGate(env, { ...options, mode: "middleware", terminal: toHandlers }));
  return async function gatehouse(c, next) {
    const gate = await gateFor(c.env as Env);
    downstream.set(c.req.raw, { outer: c, next });
    const response = await gate.app.fetch(c.req.raw, c.env as Env, c.executionCtx);
    // Hono's `c.res` setter would copy the old response's headers onto this one; clearing it first prevents that.
    c.res = undefined as unknown as Response;
    c.res = response;
  };
}

function internalOf(c: Context, call: string): Internal {
  const internal = internals.get(c);
  if (!internal) throw new Error(`${call} needs the gatehouse() middleware in front of this handler`);
  return internal;
}

/**
 * Logs a user in from a handler, as the origin's `X-Gate-Login` does: a new
 * session with a new id and token (the one the request carried is ended),
 * the cookie set on the response. `sub` is 1–256 visible ASCII characters,
 * beginning and ending with a visible one; roles visible ASCII without commas;
 * `claims` a JSON object of at most 2 KiB. Throws a TypeError otherwise.
 */
export async function login(c: Context, identity: { sub: string; roles?: string[]; claims?: Record<string, unknown> }): Promise<void> {
  const { inner, transitions } = internalOf(c, "login()");
  const checked = identityFrom({ ...identity, roles: identity.roles ?? [] });
  if ("reason" in checked) throw new TypeError(`login(): ${checked.reason.replace(/_/g, " ")}`);
  await transitions.login(inner, checked);
}

/** Logs the caller out from a handler, as `X-Gate-Logout` does: `"session"` ends this session, `"user"` every session of the user. */
export async function logout(c: Context, scope: LogoutScope = "session"): Promise<void> {
  const { inner, transitions } = internalOf(c, "logout()");
  await transitions.logout(inner, scope);
}
