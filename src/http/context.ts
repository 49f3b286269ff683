import type { Context } from "hono";
import type { RoutePolicy } from "../config/types";
import type { Authentication } from "../session/manager";
import type { StoreUnavailableError } from "../store/types";
import type { SessionRecord } from "../store/types";
import { GateError } from "../errors";

/** What the pipeline learns about a request, shared between middleware through Hono's `c.var`. */
export interface GateVariables {
  /** The normalised path, forwarded to the origin, and the spelling routes match. */
  path: string;
  matchPath: string;
  route: RoutePolicy;
  /** The path is the gate's own by some reading (src/http/prepare.ts): answered by an endpoint or 404, never forwarded. */
  gatePath: boolean;
  /** The session check, when the request carried a token. */
  auth?: Authentication;
  /** The store could not be reached while checking the token: session routes answer 503, public ones go on. */
  storeOutage?: StoreUnavailableError;
  /** The Set-Cookie for the session cookie this response must carry (rotation, login, clearing). */
  sessionCookie?: string;
  /** `Secure-Session-Registration` for a response that created a cookie session (DBSC offer). */
  deviceOffer?: string;
  requestId: string;
  /** The client's address as Cloudflare's edge sent it (`CF-Connecting-IP`): logs keep it whole. */
  clientIp: string;
  /** The limiter key of the client's address: canonical, an IPv6 address cut to `ipv6_limit_prefix` (`ip:…`). */
  clientKey: string;
  /** Time spent waiting for the origin's response headers, in ms (`GATE_DEBUG_TIMING`, metrics). */
  originTime?: number;
}

/** The Hono environment of the gate's app. */
export interface GateEnv {
  Variables: GateVariables;
}

/** Lets work finish after the response when the runtime offers an execution context. */
export function waitUntil(c: { executionCtx: ExecutionContext }, work: Promise<unknown>): void {
  try {
    c.executionCtx.waitUntil(work);
  } catch {
    // No execution context (a bare app.request() in a unit test): the promise still runs.
  }
}

/** The request's valid session, or why there is none: the store outage it met, else 401. */
export function requireSession(c: Context<GateEnv>): { session: SessionRecord; via: "cookie" | "bearer" } {
  const auth = c.get("auth");
  if (auth?.status === "valid") return auth;
  const outage = c.get("storeOutage");
  if (outage) throw outage;
  throw new GateError("unauthenticated");
}
