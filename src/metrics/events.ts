import type { LogEvent } from "../log";

type Fields = Record<string, unknown>;

/** How a log line becomes a data point: which field is its `reason`, and how many it counts. */
interface Reading {
  reason?: (fields: Fields) => unknown;
  count?: (fields: Fields) => number;
}

const field =
  (name: string) =>
  (fields: Fields): unknown =>
    fields[name];

/** The Sec-Fetch-Site values browsers send; any other is the client's own text. */
const FETCH_SITES = new Set(["cross-site", "same-site"]);

/**
 * A CSRF refusal's reason without what the client wrote into it: the log
 * keeps `sec-fetch-site:<value>` and `websocket_origin:<Origin>` whole, a data
 * point only the kind (and a browser's own Sec-Fetch-Site value).
 */
function csrfReason(fields: Fields): unknown {
  const reason = String(fields.reason ?? "");
  if (reason.startsWith("websocket_origin:")) return "websocket_origin";
  if (!reason.startsWith("sec-fetch-site:")) return reason;
  return FETCH_SITES.has(reason.slice("sec-fetch-site:".length)) ? reason : "sec-fetch-site:other";
}

/**
 * Every log event is also a metric event (docs/events.md, docs/observability.md):
 * the line's event name becomes `blob1`, one of its fields `reason`. Only
 * fields with a closed set of values, or names from the configuration (a
 * limiter, a provider), are read, and what a client can write into one is cut
 * off (`csrfReason`); `sub`, `sid`, `ip`, `error`, `detail`, `problem` never are. A `Record` over the whole union, so a new event has to
 * be mapped here before the gate compiles.
 */
export const METRIC_EVENTS: Record<LogEvent, Reading> = {
  "session.created": { reason: field("via") },
  "session.rotated": {},
  "session.reuse_detected": {},
  "session.revoked": { reason: field("reason") },
  "session.expired": { reason: field("reason") },
  "session.binding_mismatch": { reason: field("mode") },
  "session.evicted": { reason: field("reason") },
  "session.websocket_closed": { reason: field("reason") },
  "session.device_bound": { reason: field("alg") },
  "session.device_refreshed": {},
  "session.device_proof_failed": { reason: field("reason") },
  "session.device_skipped": { reason: field("reason") },
  "auth.denied": { reason: field("reason") },
  "login.invalid": { reason: field("reason") },
  "oidc.login": { reason: field("provider") },
  "oidc.failed": { reason: field("reason") },
  "oidc.backchannel_logout": { reason: field("provider"), count: (fields) => (Array.isArray(fields.sids) ? fields.sids.length : 1) },
  "ratelimit.blocked": { reason: field("limiter") },
  "ratelimit.error": { reason: field("limiter") },
  "csrf.blocked": { reason: csrfReason },
  "request.rejected": { reason: field("reason") },
  "store.error": { reason: field("operation") },
  "store.corrupt": { reason: (fields) => fields.record ?? "session" },
  "origin.error": { reason: (fields) => (fields.error_page ? "error_page" : "origin") },
  "assertion.rotated": {},
  "config.invalid": {},
};
