import { Hono } from "hono";
import { requestId } from "hono/request-id";
import { type Terminal, createApp } from "./app";
import { createAssertionKeys } from "./assertion/signing-keys";
import type { Env } from "./config/env";
import { parseSecurityHeaders } from "./config/headers";
import { type ParseMode, parseConfig } from "./config/parse";
import { createProblems } from "./config/problems";
import { deriveKeys } from "./derive";
import { GateError } from "./errors";
import type { GateEnv } from "./http/context";
import { createErrorRenderer } from "./http/error-page";
import { secureResponse } from "./http/secure-response";
import { type LogSink, createLogger } from "./log";
import { readMetricsBinding } from "./metrics/dataset";
import { createObserver } from "./metrics/observer";
import { selectBackends } from "./store/select";

/** Options of {@link createGate} and the middleware: what a user who wraps the gate may change. */
export interface GateOptions {
  /** Where log lines go (one JSON object per line); default `console.log`. */
  log?: LogSink;
  /** The clock, in Unix ms; for tests. */
  now?: () => number;
}

/** The gate of one environment: its Hono app, and the cron's rotation of the assertion keys. */
export interface BuiltGate {
  app: { fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response> };
  rotateKeys(): Promise<void>;
}

/**
 * Builds the gate for an environment: validates the config, derives keys,
 * picks the store. A config with any problem yields a gate that logs every
 * problem once and answers 500 `misconfigured` to everything: it never runs
 * half-configured.
 */
export async function buildGate(env: Env, options: GateOptions & { mode?: ParseMode; terminal?: Terminal } = {}): Promise<BuiltGate> {
  const now = options.now ?? Date.now;
  const parsed = parseConfig(env, { mode: options.mode });
  const metrics = readMetricsBinding(env.GATE_METRICS);
  // GATE_METRICS (optional): request outcomes and security events to Workers Analytics Engine (docs/observability.md).
  const observer = createObserver({
    log: createLogger(options.log, now),
    dataset: metrics.dataset,
    store: parsed.ok ? parsed.config.store.kind : "",
  });
  const { log } = observer;
  const problems = [...(parsed.ok ? [] : parsed.problems), ...(metrics.problem ? [metrics.problem] : [])];
  if (!parsed.ok || problems.length > 0) {
    for (const problem of problems) log("config.invalid", { problem });
    return misconfigured();
  }
  const { config } = parsed;
  const { store, limits } = await selectBackends(config);
  const assertionKeys = createAssertionKeys({ store, secret: config.secrets.gate, periods: config.assertion, now, log });
  const keys = await deriveKeys(config.secrets.gate);
  const app = createApp({ config, store, limiterBackend: limits, keys, now, log, observer, assertionKeys, terminal: options.terminal });
  async function rotateKeys() {
    try {
      await assertionKeys.rotate();
    } catch (error) {
      log("store.error", { operation: "keyset_rotation", error: String(error) });
      throw error; // the cron run shows as failed; the next one tries again
    }
  }
  return { app, rotateKeys };
}

function misconfigured(): BuiltGate {
  const app = new Hono<GateEnv>();
  app.use(secureResponse({ headers: parseSecurityHeaders(createProblems(), undefined) }));
  app.use(requestId({ headerName: "" }));
  // No config, so no login link and no error_page: navigations get the built-in page, others the JSON.
  const renderError = createErrorRenderer({ origin: {} });
  app.all("*", (c) => renderError(new GateError("misconfigured"), c));
  // Its problems were logged when it was built; the cron has nothing to do.
  return { app, rotateKeys: async () => {} };
}

/**
 * The gate of each environment, built on first use in this isolate (and once
 * per env object: tests and the middleware may meet several).
 */
export function gateCache(build: (env: Env) => Promise<BuiltGate>) {
  const built = new WeakMap<object, Promise<BuiltGate>>();
  return (env: Env): Promise<BuiltGate> => {
    let gate = built.get(env);
    if (!gate) {
      gate = build(env);
      built.set(env, gate);
    }
    return gate;
  };
}

/**
 * The Worker: `fetch` runs the gate in front of the origin, `scheduled` (the
 * cron of wrangler.toml `[triggers]`) rotates the assertion signing keys.
 * The package's default export is `createGate()`; call it with options to wrap
 * the gate (a log sink of your own, say).
 */
export function createGate(options: GateOptions = {}): ExportedHandler<Env> & Required<Pick<ExportedHandler<Env>, "fetch" | "scheduled">> {
  const gateFor = gateCache((env) => buildGate(env, options));
  return {
    async fetch(request, env, ctx) {
      return (await gateFor(env)).app.fetch(request, env, ctx);
    },
    async scheduled(_controller, env) {
      await (await gateFor(env)).rotateKeys();
    },
  };
}
