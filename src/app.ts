import { type Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import type { Config } from "./config/types";
import type { GateKeys } from "./derive";
import { GateError } from "./errors";
import { createErrorRenderer } from "./http/error-page";
import type { GateEnv } from "./http/context";
import { type Logger, outageFields } from "./log";
import type { LimiterBackend } from "./ratelimit/types";
import { type SessionStore, StoreUnavailableError } from "./store/types";
import { createSessionManager } from "./session/manager";
import { type Transitions, createTransitions } from "./session/transitions";
import { secureResponse } from "./http/secure-response";
import { debugTiming } from "./http/timing";
import { prepare, routingPath } from "./http/prepare";
import { admit } from "./http/admit";
import { csrfGuard } from "./http/csrf";
import { createFailedAuth } from "./http/failed-auth";
import { createLimitCheck } from "./http/limit";
import { enforcePolicy } from "./policy/enforce";
import { forward } from "./proxy/forward";
import { ADMIN_PREFIX, GATE_PREFIX } from "./endpoints/paths";
import { selfService } from "./endpoints/self";
import { health } from "./endpoints/health";
import { admin } from "./endpoints/admin";
import { jwks } from "./endpoints/jwks";
import { OIDC_PREFIX, createOidc } from "./oidc";
import { createDeviceOffer, dbsc, logSkippedRefresh, refreshLimitKeepsSession } from "./endpoints/dbsc";
import { createChallenges } from "./dbsc/challenge";
import type { AssertionKeys } from "./assertion/signing-keys";
import { createAssertionSigner } from "./assertion/sign";
import { type Observer, createObserver } from "./metrics/observer";

/** Everything the gate is built from; tests inject a clock, a store and a logger. */
export interface GateDeps {
  config: Config;
  store: SessionStore;
  keys: GateKeys;
  /** The rate limiting backend of the configured limiters. */
  limiterBackend: LimiterBackend;
  now: () => number;
  log: Logger;
  /** The assertion signing keys, shared with the cron that rotates them. */
  assertionKeys: AssertionKeys;
  /**
   * The last step, after the route policy: the proxy to the origin by default;
   * the application's own handlers in middleware mode (src/middleware.ts).
   */
  terminal?: Terminal;
  /** Request context for `log` lines, and GATE_METRICS (src/metrics/observer.ts); default: over `log`, no metrics. */
  observer?: Observer;
}

/** The step a request that passed every check goes to; it may log the user in or out with `transitions`. */
export type Terminal = (c: Context<GateEnv>, tools: { transitions: Transitions; config: Config }) => Promise<Response>;

/**
 * What the log learns of an error the pipeline threw: refusals were logged
 * where they were decided; an outage once (admission already logged the one
 * it remembered); anything else is a bug, logged with its message.
 */
function report(error: Error, c: Context<GateEnv>, log: Logger): void {
  if (error instanceof HTTPException) return;
  if (error instanceof StoreUnavailableError) {
    if (error !== c.get("storeOutage")) log("store.error", { ...outageFields(error), request_id: c.get("requestId") });
    return;
  }
  log("request.rejected", { reason: "internal_error", error: String(error), request_id: c.get("requestId") });
}

/**
 * The pipeline, wiring only. Every request goes, in order, through:
 * security headers (outermost, so errors are decorated too) → method and path
 * checks → rate limits and session (one store round trip) → the gate's own
 * endpoints, or → CSRF → route policy → proxy (or, in middleware mode, the
 * application's handlers).
 */
export function createApp(deps: GateDeps) {
  const { config, store, now, assertionKeys } = deps;
  const { log, observe, metrics } = deps.observer ?? createObserver({ log: deps.log, store: config.store.kind });
  const sessions = createSessionManager({ policy: config.session, store, keys: deps.keys, now, log });
  const challenges = createChallenges(deps.keys.deviceChallenge, now);
  const transitions = createTransitions({ sessions, cookie: config.cookie, now, offer: createDeviceOffer(config, challenges) });
  const issuer = config.issuer ?? config.publicOrigin;
  const signAssertion = createAssertionSigner({ keys: assertionKeys, issuer, originUrl: config.origin.url, now });
  const limit = createLimitCheck(deps.limiterBackend, log);
  const failedAuth = createFailedAuth(config.rateLimits.get("failed_auth"), limit, now);
  const app = new Hono<GateEnv>({ getPath: routingPath });

  // JSON for API clients, a page a person can read for navigations (contract §9).
  const renderError = createErrorRenderer({ loginPath: config.loginPath, errorPage: config.errorPage, origin: config.origin, log });
  app.onError((error, c) => {
    report(error, c, log);
    return renderError(error, c);
  });

  app.use(debugTiming()); // GATE_DEBUG_TIMING = "1" only: Server-Timing (docs/benchmarks.md)
  app.use(secureResponse({ headers: config.headers }));
  // A fresh id for every request; never the client's (headerName "": its X-Request-Id is not read).
  app.use(requestId({ headerName: "" }));
  app.use(observe); // from here on, log lines carry the route and sid; with GATE_METRICS, data points after the response
  app.use(prepare({ routes: config.routes, publicOrigin: config.publicOrigin, ipv6LimitPrefix: config.ipv6LimitPrefix, log }));
  if (config.session.deviceBound !== "off") app.use(refreshLimitKeepsSession());
  app.use(admit({ sessions, cookie: config.cookie, limiters: config.rateLimits, limit, failedAuth, log, now }));
  if (config.session.deviceBound !== "off") app.use(logSkippedRefresh(log));
  app.route(ADMIN_PREFIX, admin({ config, sessions, failedAuth }));
  // OIDC login (contract §10), only for a gate with providers: before selfService, whose CSRF check covers only its own endpoints.
  const oidc = config.oidc.size > 0 ? createOidc({ config, store, sessions, transitions, now, log }) : undefined;
  if (oidc) app.route(OIDC_PREFIX, oidc.routes);
  app.route(GATE_PREFIX, selfService({ config, sessions, transitions, log, endSession: oidc?.endSession }));
  app.route(GATE_PREFIX, dbsc({ config, sessions, challenges, now, log }));
  app.route(GATE_PREFIX, health({ store, config, failedAuth, log, now, metrics }));
  app.route(GATE_PREFIX, jwks(assertionKeys));

  app.all("*", (c, next) => {
    if (c.get("gatePath")) throw new GateError("not_found");
    return next();
  });
  app.all(
    "*",
    csrfGuard(config, log, (c) => c.get("route").csrf),
  );
  const { loginPath, loginProvider } = config;
  app.all("*", enforcePolicy({ loginPath, loginProvider, deviceBound: config.session.deviceBound, now, log }));
  const terminal = deps.terminal ?? forward({ config, transitions, stillValid: sessions.device.stillValid, log, now, signAssertion });
  app.all("*", (c) => terminal(c, { transitions, config }));
  return app;
}
