/** The events of contract §7, and a few of the gate's own. */
export type LogEvent =
  | "session.created"
  | "session.rotated"
  | "session.reuse_detected"
  | "session.revoked"
  | "session.expired"
  | "session.binding_mismatch"
  | "session.evicted"
  | "session.websocket_closed"
  | "session.device_bound"
  | "session.device_refreshed"
  | "session.device_proof_failed"
  | "session.device_skipped"
  | "auth.denied"
  | "login.invalid"
  | "oidc.login"
  | "oidc.failed"
  | "oidc.backchannel_logout"
  | "ratelimit.blocked"
  | "ratelimit.error"
  | "csrf.blocked"
  | "request.rejected"
  | "store.error"
  | "store.corrupt"
  | "origin.error"
  | "assertion.rotated"
  | "config.invalid";

/**
 * Writes one event. Never pass a raw token: sids and hashes only. A line that
 * names its request (`request_id`) gets the request's `route` and `sid` from
 * the gate's observer (src/metrics/observer.ts), and with GATE_METRICS becomes
 * a data point too (src/metrics/events.ts maps every event).
 */
export type Logger = (event: LogEvent, fields?: Record<string, unknown>) => void;

/** Where log lines go: one JSON object per line. */
export type LogSink = (line: string) => void;

/** A logger that writes one JSON object per line, with `event` and `time`. */
export function createLogger(write: LogSink = (line) => console.log(line), now: () => number = Date.now): Logger {
  return (event, fields = {}) => write(JSON.stringify({ time: new Date(now()).toISOString(), event, ...fields }));
}

/** The fields of a `store.error` line: which operation of which backend failed, and why (never its arguments). */
export const outageFields = (error: { operation: string; backend: string; message: string }) => ({
  operation: error.operation,
  backend: error.backend,
  error: error.message,
});
