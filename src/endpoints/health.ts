import { Hono } from "hono";
import { STORE_RETRY_AFTER } from "../errors";
import type { GateEnv } from "../http/context";
import { type Logger, outageFields } from "../log";
import { type SessionStore, StoreUnavailableError } from "../store/types";

/**
 * `GET /_gate/health` (contract §6): a report of the store's state, 200
 * `{"status":"ok"}` when it answers and 503 `{"status":"unavailable"}` when
 * it does not. This is a probe, not a request the outage interrupted: its
 * 503 is the report itself, with the Retry-After every outage answer carries.
 */
export function health(store: Pick<SessionStore, "ping">, log: Logger) {
  return new Hono<GateEnv>().get("/health", async (c) => {
    try {
      await store.ping();
      return c.json({ status: "ok" });
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      log("store.error", { ...outageFields(error), request_id: c.get("requestId") });
      return c.json({ status: "unavailable" }, 503, { "Retry-After": STORE_RETRY_AFTER });
    }
  });
}
