import { Hono } from "hono";
import type { Env } from "./config/env";
import { parseConfig } from "./config/parse";
import { parseSecurityHeaders } from "./config/headers";
import { createProblems } from "./config/problems";
import { createApp } from "./app";
import { createLogger } from "./log";
import { selectBackends } from "./store/select";
import { deriveKeys } from "./session/keys";
import { GateError, errorResponse } from "./errors";
import { secureResponse } from "./http/secure-response";
import type { GateEnv } from "./http/context";

type Handler = (request: Request, env: Env, ctx: ExecutionContext) => Response | Promise<Response>;

/** Built once per isolate and per env object (tests pass several). */
const built = new WeakMap<object, Promise<Handler>>();

/**
 * Builds the gate for an environment: validates the config, derives keys,
 * picks the store. A config with any problem yields a gate that logs every
 * problem once and answers 500 `misconfigured` to everything: it never runs
 * half-configured.
 */
export async function buildGate(env: Env, now: () => number = Date.now): Promise<Handler> {
  const log = createLogger(undefined, now);
  const parsed = parseConfig(env);
  if (!parsed.ok) {
    for (const problem of parsed.problems) log("config.invalid", { problem });
    return misconfigured();
  }
  const { config } = parsed;
  const { store, limits } = selectBackends(config, env);
  const app = createApp({ config, store, limits, keys: await deriveKeys(config.secrets.gate), now, log });
  return (request, _env, ctx) => app.fetch(request, env, ctx);
}

function misconfigured(): Handler {
  const app = new Hono<GateEnv>();
  app.use(secureResponse({ headers: parseSecurityHeaders(createProblems(), undefined) }));
  app.all("*", () => errorResponse(new GateError("misconfigured")));
  return (request, env, ctx) => app.fetch(request, env, ctx);
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    let gate = built.get(env);
    if (!gate) {
      gate = buildGate(env);
      built.set(env, gate);
    }
    return (await gate)(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
