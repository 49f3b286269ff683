/**
 * The layout of a GATE_METRICS data point (docs/observability.md, "Data point
 * layout"). Analytics Engine columns are positional (`blob1`…`blob20`,
 * `double1`…`double20`, `index1`), so the positions here are the dataset's
 * schema: append new fields, never move one.
 *
 * Every value is a closed vocabulary or a name from the configuration: an
 * event name, a route pattern, a backend, a status class, a reason code, a
 * colo. Never a token, a cookie, an address, a `sub` or a `sid`: a data point
 * is kept three months and read by whoever holds an Analytics read token.
 */

/** What one data point says, before it is laid out. */
export interface Sample {
  /** `request` for the outcome of a request, else the log event (`session.rotated`). */
  event: string;
  /** The `GATE.routes` pattern the request fell under, or the gate endpoint's (`/_gate/health`); `""` outside a request. */
  route: string;
  /** The session store backend: `kv`, `redis` or `durable`. */
  store: string;
  /** The status class of the request's response (`2xx`…`5xx`); `""` outside a request. */
  status: string;
  /** Why: the refusal code of a request, the reason (or limiter, operation, provider) of an event. */
  reason: string;
  /** The Cloudflare data center that ran the request (`request.cf.colo`); `""` locally and outside a request. */
  colo: string;
  /** Time spent in the gate, ms (outcome points only). */
  gateMs: number;
  /** Time waiting for the origin's response headers, ms (outcome points only). */
  originMs: number;
  /** How many: 1, or the sessions one event ended (back-channel logout). */
  count: number;
}

/** The blob columns, in order: `blob1` is `event`. */
export const BLOBS = ["event", "route", "store", "status", "reason", "colo"] as const;
/** The double columns, in order: `double1` is `gate_ms`. */
export const DOUBLES = ["gate_ms", "origin_ms", "count"] as const;

/**
 * The data point of a sample. The index (the sampling key) is the event:
 * Analytics Engine samples an index once writes to it come fast, so the flood
 * of `request` points is sampled on its own while a rare `session.reuse_detected`
 * keeps every point; each documented query filters on one event, so it reads
 * one index at the best resolution the query allows.
 */
export function dataPoint(sample: Sample): AnalyticsEngineDataPoint {
  return {
    indexes: [sample.event],
    blobs: [sample.event, sample.route, sample.store, sample.status, sample.reason, sample.colo],
    doubles: [sample.gateMs, sample.originMs, sample.count],
  };
}

/** A reason as a blob: a short code of `[A-Za-z0-9_.:-]`, anything else (or too long) `other`. */
export function code(value: unknown): string {
  if (value === undefined || value === null || value === "") return "";
  return typeof value === "string" && value.length <= 64 && /^[\w.:-]+$/.test(value) ? value : "other";
}

/** `2xx` for 204: the status class of a response. */
export const statusClass = (status: number): string => `${Math.floor(status / 100)}xx`;

/** Milliseconds with a tenth of precision: Workers timers are coarser than that anyway. */
export const ms = (value: number): number => Math.max(0, Math.round(value * 10) / 10);
