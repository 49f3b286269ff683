import type { Env } from "./env";
import type { Limiter, LimiterKey, StoreConfig } from "./types";
import { type Problems, isTable, readChoice, readDuration, readTable, show } from "./problems";

/** Workers Rate Limiting bindings count over 10 or 60 seconds, nothing else. */
const BINDING_PERIODS = [10_000, 60_000];

/**
 * Reads `GATE.rate_limits`. Absent, there are no limiters. In `kv` mode each
 * limiter needs its Workers Rate Limiting binding `RATE_LIMIT_<NAME>`, whose
 * period can only be 10 s or 60 s.
 */
export function parseLimiters(problems: Problems, value: unknown, store: StoreConfig["kind"], env: Env): Map<string, Limiter> {
  const limiters = new Map<string, Limiter>();
  const table = readTable(problems, "GATE.rate_limits", value, Object.keys(isTable(value) ? value : {}));
  for (const [name, entry] of Object.entries(table)) {
    const key = `GATE.rate_limits.${name}`;
    if (!/^[a-z][a-z0-9_]*$/.test(name)) problems.add(key, "expected a name of lower-case letters, digits and _");
    if (!isTable(entry)) {
      // One line for a limiter that is not a table, not one per missing field.
      problems.add(key, `expected a table such as { limit = 600, period = "1m", key = "ip" }, got ${show(entry)}`);
      continue;
    }
    const raw = readTable(problems, key, entry, ["limit", "period", "key", "on_failure"]);
    const limit = raw.limit;
    if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1) {
      problems.add(`${key}.limit`, `expected a whole number of at least 1, got ${show(limit)}`);
    }
    const period = readDuration(problems, `${key}.period`, raw.period, "1m");
    if (store === "kv" && !BINDING_PERIODS.includes(period)) {
      problems.add(`${key}.period`, `expected "10s" or "1m" in kv mode (Workers Rate Limiting periods), got ${show(raw.period)}`);
    }
    const bindingName = `RATE_LIMIT_${name.toUpperCase()}`;
    const binding = env[bindingName] as RateLimit | undefined;
    if (store === "kv" && typeof binding?.limit !== "function") {
      problems.add(key, `expected a rate limiting binding named ${bindingName} in wrangler.toml ([[ratelimits]]) in kv mode`);
    }
    const by = readChoice<LimiterKey>(problems, `${key}.key`, raw.key, ["ip", "session", "user"], "ip");
    const onFailure = readChoice(problems, `${key}.on_failure`, raw.on_failure, ["open", "closed"], "open");
    limiters.set(name, { name, limit: Number(limit), period, key: by, onFailure, binding: store === "kv" ? binding : undefined });
  }
  return limiters;
}
