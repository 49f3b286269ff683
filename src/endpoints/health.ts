import { type Context, Hono } from "hono";
import type { Config } from "../config/types";
import { STORE_RETRY_AFTER } from "../errors";
import type { GateEnv } from "../http/context";
import type { FailedAuth } from "../http/failed-auth";
import { type Logger, outageFields } from "../log";
import { configDigest } from "../metrics/digest";
import { keysetState } from "../metrics/keyset-state";
import { ms } from "../metrics/layout";
import { GATE_VERSION } from "../metrics/version";
import { type SessionStore, StoreUnavailableError } from "../store/types";
import { isAdmin } from "./admin";

/** Dependencies of {@link health}. */
export interface HealthOptions {
  store: Pick<SessionStore, "ping" | "readKeyset">;
  config: Config;
  /** A wrong admin token counts toward `failed_auth`, as it does on the admin API. */
  failedAuth: FailedAuth;
  log: Logger;
  now: () => number;
  /** Whether GATE_METRICS is bound. */
  metrics: boolean;
  /** A monotonic clock in ms for the round trip; default `performance.now()`. */
  timer?: () => number;
}

/**
 * Whether the request carries the admin token. A wrong one is counted toward
 * `failed_auth` (past it, 429), so this endpoint is no cheaper a place to
 * guess GATE_ADMIN_TOKEN than the admin API. Admission reads no session
 * credential here (src/http/credential.ts): a token-shaped admin token is
 * never looked up as a session's.
 */
async function asksAsAdmin(c: Context<GateEnv>, options: HealthOptions): Promise<boolean> {
  const header = c.req.header("authorization");
  const expected = options.config.secrets.admin;
  if (header === undefined || !expected) return false;
  if (await isAdmin(header, expected)) return true;
  await options.failedAuth.record(c, undefined);
  return false;
}

/**
 * `GET /_gate/health` (contract §6): a report of the store's state, 200
 * `{"status":"ok","store_rtt_ms":…}` when it answers, with the time its ping
 * took, and 503 `{"status":"unavailable"}` when it does not. This is a probe,
 * not a request the outage interrupted: its 503 is the report itself, with
 * the Retry-After every outage answer carries. With the admin token
 * (`Authorization: Bearer <GATE_ADMIN_TOKEN>`) it also says what runs: the
 * version, the config digest, the store, whether metrics are on and the
 * assertion keyset (docs/observability.md); any other Authorization gets the
 * plain report.
 */
export function health(options: HealthOptions) {
  const { store, config, log, now } = options;
  const timer = options.timer ?? (() => performance.now());
  let digest: Promise<string> | undefined;

  /** What runs, for the admin: computed per request but the digest, once per isolate. */
  async function details(c: Context<GateEnv>) {
    const keyset = await keysetState(store, now(), config.assertion).catch((error: unknown) => {
      if (!(error instanceof StoreUnavailableError)) throw error;
      log("store.error", { ...outageFields(error), request_id: c.get("requestId") });
      return null;
    });
    digest ??= configDigest(config);
    return { version: GATE_VERSION, config_digest: await digest, store: config.store.kind, metrics: options.metrics, keyset };
  }

  return new Hono<GateEnv>().get("/health", async (c) => {
    const admin = await asksAsAdmin(c, options);
    const start = timer();
    try {
      await store.ping();
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      log("store.error", { ...outageFields(error), request_id: c.get("requestId") });
      return c.json({ status: "unavailable" }, 503, { "Retry-After": STORE_RETRY_AFTER });
    }
    const report = { status: "ok", store_rtt_ms: ms(timer() - start) };
    if (!admin) return c.json(report);
    c.header("Cache-Control", "no-store");
    return c.json({ ...report, ...(await details(c)) });
  });
}
