/**
 * gatehouse-edge: an edge session gate for Cloudflare Workers.
 *
 * - the default export is the Worker (`fetch` + `scheduled`): a deployment's
 *   `src/index.ts` is `export { default, GatehouseSessions } from "gatehouse-edge";`
 * - `createGate(options)` builds the same Worker with options (a log sink);
 * - `gatehouse(options)` is the whole gate as Hono middleware, with `login()`
 *   and `logout()` for the handlers behind it.
 */
import { createGate } from "./gate";

export default createGate();
export { createGate, type GateOptions } from "./gate";
export { gatehouse, login, logout, type GateIdentity, type GatehouseVariables } from "./middleware";
export type { LogoutScope } from "./session/transitions";
export type { Env as GateBindings } from "./config/env";
export type { Duration, GateConfig } from "./config/gate-config";

/** The Durable Object class of `SESSION_STORE = "durable"` (wrangler.toml `SESSION_OBJECTS`): exported, so the runtime can run it. */
export { GatehouseSessions } from "./store/durable-object";
