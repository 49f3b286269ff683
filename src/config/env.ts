/**
 * The Worker's bindings and variables, as `wrangler.toml`, `.dev.vars` and
 * `wrangler secret put` provide them (contract §1).
 */
export interface Env {
  ORIGIN_URL?: string;
  /** A service binding to the origin; used instead of `ORIGIN_URL` when present. */
  ORIGIN?: Fetcher;
  SESSION_STORE?: string;
  /** The policy table; a JSON string is accepted too (dashboard-set variables are text). */
  GATE?: unknown;
  GATE_SECRET?: string;
  GATE_ORIGIN_SECRET?: string;
  GATE_ADMIN_TOKEN?: string;
  UPSTASH_REDIS_REST_URL?: string;
  UPSTASH_REDIS_REST_TOKEN?: string;
  /** The KV namespace of the `kv` store. */
  SESSIONS?: KVNamespace;
  /** Optional metrics: the Workers Analytics Engine dataset of wrangler.toml `[[analytics_engine_datasets]]` (docs/observability.md). */
  GATE_METRICS?: AnalyticsEngineDataset;
  [binding: string]: unknown;
}
