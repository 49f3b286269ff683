/**
 * The Worker `gatehouse-edge check-config` runs in workerd, prebuilt by
 * scripts/build-cli.mjs into dist/cli/check-config-worker.js. It calls the
 * gate's own `parseConfig` on bindings Miniflare builds from wrangler.toml, so
 * the check sees exactly what the deployed gate sees: real KV, service, rate
 * limiting and Durable Object bindings, JSON vars, and workerd's URLPattern
 * (Node 20 has none).
 */
import { parseDuration } from "../../config/duration";
import type { Env } from "../../config/env";
import { type ParseMode, parseConfig } from "../../config/parse";
import { isTable } from "../../config/problems";

/** A `[[ratelimits]]` entry as declared: `where` names it in messages (`ratelimits[0]`). */
export interface DeclaredRateLimit {
  where: string;
  limit: number;
  /** Seconds: 10 or 60. */
  period: number;
}

/** The request body: what wrangler.toml and `main` say that a binding object does not reveal. */
export interface CheckRequest {
  ratelimits: Record<string, DeclaredRateLimit>;
  /** "middleware" when `main` uses the Hono middleware only (no origin to forward to). */
  mode: ParseMode;
}

/** What the CLI reads back: the parser's verdict (or the exception it threw), and binding mismatches. */
export type CheckResult = ({ ok: true; routes: number; store: string } | { ok: false; problems: string[] } | { error: string }) & {
  bindingProblems: string[];
};

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const { ratelimits, mode } = (await request.json()) as CheckRequest;
    return Response.json({ ...check(env, mode), bindingProblems: compareRateLimits(env, ratelimits) });
  },
} satisfies ExportedHandler<Env>;

/**
 * Stands in for the gate's Durable Object class so Miniflare can bind
 * `SESSION_OBJECTS`; the parser only checks the namespace is there, and no
 * object is ever created.
 */
export class GatehouseSessions {
  fetch(): Response {
    return new Response(null, { status: 501 });
  }
}

function check(env: Env, mode: ParseMode) {
  try {
    const parsed = parseConfig(env, { mode });
    if (!parsed.ok) return { ok: false, problems: parsed.problems };
    return { ok: true, routes: parsed.config.routes.length, store: parsed.config.store.kind };
  } catch (error) {
    // A throw is a parser bug (it should report, not throw); show it rather than hide it.
    return { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
}

/**
 * In `kv` mode limiter NAME counts with the binding RATE_LIMIT_<NAME>, which
 * must allow the same number over the same period (contract §1). The binding
 * object does not reveal its limit, so `parseConfig` cannot compare them; only
 * wrangler.toml can. Limiters written wrongly are left to `parseConfig`.
 */
function compareRateLimits(env: Env, declared: Record<string, DeclaredRateLimit>): string[] {
  if ((env.SESSION_STORE || "kv") !== "kv") return [];
  const problems: string[] = [];
  for (const [name, limiter] of Object.entries(readLimiters(env.GATE))) {
    const binding = declared[`RATE_LIMIT_${name.toUpperCase()}`];
    if (!isTable(limiter) || !binding) continue;
    const period = parseDuration(limiter.period === undefined ? "1m" : limiter.period);
    const sameLimit = typeof limiter.limit !== "number" || limiter.limit === binding.limit;
    const samePeriod = period === undefined || period === binding.period * 1_000;
    if (sameLimit && samePeriod) continue;
    problems.push(
      `${binding.where}.simple: RATE_LIMIT_${name.toUpperCase()} allows ${binding.limit} per ${binding.period}s, ` +
        `but GATE.rate_limits.${name} says ${String(limiter.limit)} per ${JSON.stringify(limiter.period ?? "1m")}`,
    );
  }
  return problems;
}

function readLimiters(gate: unknown): Record<string, unknown> {
  let value = gate;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      return {};
    }
  }
  return isTable(value) && isTable(value.rate_limits) ? value.rate_limits : {};
}
