import type { Authentication } from "../session/manager";
import type { RoutePolicy } from "../config/types";

/** What the pipeline learns about a request, shared between middleware through Hono's `c.var`. */
export interface GateVariables {
  /** The normalised path, forwarded to the origin, and the spelling routes match. */
  path: string;
  matchPath: string;
  route: RoutePolicy;
  /** The session check, when the request carried a token. */
  auth?: Authentication;
  /** The store could not be reached while checking the token. */
  storeDown?: boolean;
  /** The Set-Cookie for the session cookie this response must carry (rotation, login, clearing). */
  sessionCookie?: string;
  requestId: string;
  clientIp: string;
}

/** The Hono environment of the gate's app. */
export interface GateEnv {
  Variables: GateVariables;
}
