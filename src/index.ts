import { Hono } from "hono";
import type { Env } from "./config/env";
import { parseConfig } from "./config/parse";
import { parseSecurityHeaders } from "./config/headers";
import { createProblems } from "./config/problems";
import { createApp } from "./app";
import { createLogger } from "./log";
import { selectBackends } from "./store/select";
import { deriveKeys } from "./derive";
import { GateError } from "./errors";
import { secureResponse } from "./http/secure-response";
import type { GateEnv } from "./http/context";
import { createAssertionKeys } from "./assertion/signing-keys";

type Handler = (request: Request, env: Env, ctx: ExecutionContext) => Response | Promise<Response>;

/** The gate of one environment: the request handler, and the cron's rotation of the assertion keys. */
export type Gate = Handler & { rotateKeys(): Promise<void> };

/** Built once per isolate and per env object (tests pass several). */
const built = new WeakMap<object, Promise<Gate>>();

/**
 * Builds the gate for an environment: validates the config, derives keys,
 * picks the store. A config with any problem yields a gate that logs every
 * problem once and answers 500 `misconfigured` to everything: it never runs
 * half-configured.
 */
export async function buildGate(env: Env, now: () => number = Date.now): Promise<Gate> {
  const log = createLogger(undefined, now);
  const parsed = parseConfig(env);
  if (!parsed.ok) {
    for (const problem of parsed.problems) log("config.invalid", { problem });
    return misconfigured();
  }
  const { config } = parsed;
  const { store, limits } = selectBackends(config);
  const assertionKeys = createAssertionKeys({ store, secret: config.secrets.gate, periods: config.assertion, now, log });
  const app = createApp({ config, store, limiterBackend: limits, keys: await deriveKeys(config.secrets.gate), now, log, assertionKeys });
  const rotateKeys = async () => {
    try {
      await assertionKeys.rotate();
    } catch (error) {
      log("store.error", { operation: "keyset_rotation", error: String(error) });
      throw error; // the cron run shows as failed; the next one tries again
    }
  };
  return Object.assign((request: Request, _env: Env, ctx: ExecutionContext) => app.fetch(request, env, ctx), { rotateKeys });
}

function misconfigured(): Gate {
  const app = new Hono<GateEnv>();
  app.use(secureResponse({ headers: parseSecurityHeaders(createProblems(), undefined) }));
  app.all("*", () => new GateError("misconfigured").getResponse());
  // Its problems were logged when it was built; the cron has nothing to do.
  return Object.assign((request: Request, env: Env, ctx: ExecutionContext) => app.fetch(request, env, ctx), { rotateKeys: async () => {} });
}

/** The gate of `env`, built on first use in this isolate. */
function gateFor(env: Env): Promise<Gate> {
  let gate = built.get(env);
  if (!gate) {
    gate = buildGate(env);
    built.set(env, gate);
  }
  return gate;
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    return (await gateFor(env))(request, env, ctx);
  },
  /** The cron (wrangler.toml `[triggers]`): publishes the next assertion key, retires and removes old ones. */
  async scheduled(_controller: ScheduledController, env: Env): Promise<void> {
    await (await gateFor(env)).rotateKeys();
  },
} satisfies ExportedHandler<Env>;
