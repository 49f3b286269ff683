import { Hono } from "hono";
import type { GateEnv } from "../http/context";
import type { Logger } from "../log";
import type { SessionStore } from "../store/types";
import { STORE_RETRY_AFTER } from "../policy/enforce";

/** `GET /_gate/health`: 200 when the store answers, 503 otherwise (contract §6). */
export function health(store: SessionStore, log: Logger) {
  return new Hono<GateEnv>().get("/health", async (c) => {
    try {
      await store.ping();
      return c.json({ status: "ok" });
    } catch (error) {
      log("store.error", { operation: "health", error: String(error) });
      c.header("Retry-After", STORE_RETRY_AFTER);
      return c.json({ status: "unavailable" }, 503);
    }
  });
}
