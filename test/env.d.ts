import type { Env as GateBindings } from "../src/config/env";

declare global {
  namespace Cloudflare {
    /** The bindings tests get from `cloudflare:test`: wrangler.toml plus vitest.config.ts's test secrets. */
    interface Env extends GateBindings {
      SESSIONS: KVNamespace;
      /** The Durable Objects of `SESSION_STORE = "durable"` (wrangler.toml). */
      SESSION_OBJECTS: DurableObjectNamespace<import("../src/store/durable-object").GatehouseSessions>;
      GATE_SECRET: string;
      GATE_ORIGIN_SECRET: string;
      GATE_ADMIN_TOKEN: string;
      /** wrangler.toml's Analytics Engine dataset: miniflare simulates it (its writes are not readable). */
      GATE_METRICS: AnalyticsEngineDataset;
    }
  }
}
