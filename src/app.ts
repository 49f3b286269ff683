import { Hono } from "hono";
import type { Config } from "./config/types";
import type { GateEnv } from "./http/context";
import type { Logger } from "./log";
import { type SessionStore, StoreUnavailableError } from "./store/types";
import type { GateKeys } from "./session/keys";
import { GateError, errorResponse } from "./errors";
import { createSessionManager } from "./session/manager";
import { secureResponse } from "./http/secure-response";
import { debugTiming } from "./http/timing";
import { prepare, routingPath } from "./http/prepare";
import { admit } from "./http/admit";
import type { LimiterBackend } from "./ratelimit/types";
import { csrfGuard } from "./http/csrf";
import { STORE_RETRY_AFTER, enforcePolicy } from "./policy/enforce";
import { forward } from "./proxy/forward";
import { selfService } from "./endpoints/self";
import { health } from "./endpoints/health";
import { admin } from "./endpoints/admin";
import { jwks } from "./endpoints/jwks";
import { type AssertionKeys, createAssertionKeys } from "./assertion/keys";
import { createAssertionSigner } from "./assertion/sign";

/** Everything the gate is built from; tests inject a clock, a store and a logger. */
export interface GateDeps {
  config: Config;
  store: SessionStore;
  keys: GateKeys;
  /** The rate limiting backend of the configured limiters. */
  limits: LimiterBackend;
  now: () => number;
  log: Logger;
  /** The assertion signing keys; built over `store` when absent. The Worker entry shares them with the cron. */
  assertionKeys?: AssertionKeys;
}

/**
 * The pipeline, wiring only. Every request goes, in order, through:
 * security headers (outermost, so errors are decorated too) → method and path
 * checks → rate limits and session (one store round trip) → the gate's own
 * endpoints, or → CSRF → route policy → proxy.
 */
export function createApp(deps: GateDeps) {
  const { config, store, limits, now, log } = deps;
  const sessions = createSessionManager(deps);
  const assertionKeys = deps.assertionKeys ?? createAssertionKeys({ store, secret: config.secrets.gate, periods: config.assertion, now, log });
  const signAssertion = createAssertionSigner({ keys: assertionKeys, issuer: config.issuer, originUrl: config.origin.url, now });
  const app = new Hono<GateEnv>({ getPath: routingPath });

  app.onError((error, c) => {
    if (error instanceof GateError) return errorResponse(error);
    if (error instanceof StoreUnavailableError) {
      log("store.error", { operation: "endpoint", error: error.message, request_id: c.get("requestId") });
      return errorResponse(new GateError("unavailable", { "Retry-After": STORE_RETRY_AFTER }));
    }
    log("request.rejected", { reason: "internal_error", error: String(error), request_id: c.get("requestId") });
    return errorResponse(new GateError("internal_error"));
  });

  app.use(debugTiming()); // GATE_DEBUG_TIMING = "1" only: Server-Timing (docs/benchmarks.md)
  app.use(secureResponse({ headers: config.headers }));
  app.use(prepare(config.routes, log));
  app.use(admit({ sessions, cookie: config.cookie, limiters: config.rateLimits, limits, log, now }));
  app.route("/_gate/admin", admin({ config, sessions }));
  app.route("/_gate", selfService({ config, sessions, log }));
  app.route("/_gate", health(store, log));
  app.route("/_gate", jwks(assertionKeys));

  app.all("*", (c, next) => {
    if (/^\/_gate(\/|$)/i.test(c.get("matchPath"))) throw new GateError("not_found");
    return next();
  });
  app.all("*", csrfGuard(config.trustedOrigins, log, (c) => c.get("route").csrf));
  app.all("*", enforcePolicy({ loginPath: config.loginPath, now, log }));
  app.all("*", forward({ config, sessions, log, now, signAssertion }));
  return app;
}

/** The gate's Hono app. */
export type GateApp = ReturnType<typeof createApp>;
