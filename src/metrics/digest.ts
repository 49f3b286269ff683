import type { Config } from "../config/types";
import { sha256 } from "../util/encoding";

/** Keys whose values are secrets (GATE_SECRET and friends, the Upstash token, OIDC client secrets): never digested. */
const SECRET_KEYS = new Set(["secrets", "token", "clientSecret"]);

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The configuration as plain, ordered JSON: maps as objects, sets as sorted
 * lists, URLs as text, object keys sorted, secrets left out. Runtime objects
 * (bindings, compiled URL patterns) are `true`: that the gate has one is
 * configuration, which object it is this time is not.
 */
export function canonicalConfig(value: unknown): unknown {
  if (value instanceof Map) return canonicalConfig(Object.fromEntries(value));
  if (value instanceof Set) return [...value].map(canonicalConfig).sort((a, b) => compare(JSON.stringify(a), JSON.stringify(b)));
  if (value instanceof URL) return value.href;
  if (Array.isArray(value)) return value.map(canonicalConfig);
  if (typeof value === "function") return true;
  if (typeof value !== "object" || value === null) return value;
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return true;
  const entries = Object.entries(value).filter(([key, item]) => !SECRET_KEYS.has(key) && item !== undefined);
  return Object.fromEntries(entries.sort(([a], [b]) => compare(a, b)).map(([key, item]) => [key, canonicalConfig(item)]));
}

/**
 * `sha256:<base64url>` of the canonical configuration: two isolates, or two
 * deployments, with the same digest run the same policy. No secret goes into
 * it, so it can be shown to whoever holds the admin token and compared across
 * environments; a rotated GATE_SECRET leaves it unchanged.
 */
export async function configDigest(config: Config): Promise<string> {
  return `sha256:${await sha256(JSON.stringify(canonicalConfig(config)))}`;
}
