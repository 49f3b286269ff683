// Vitest globalSetup (runs in Node, not in workerd): throwaway redis-servers
// with the Upstash-compatible REST bridge in front, shared by every test file.
//
// - `redisRestUrl` / `redisRestToken`: the shared pair. Never stop its Redis:
//   test files run side by side and all of them use it. For counts and faults
//   that only your file sees, use the token `${token}.${scope}` and
//   `?scope=` / `{ "scope": ... }` on the control endpoints.
// - `redisOutageRestUrl` / `redisOutageRestToken`: a second pair that outage
//   tests own; they may POST `${url}/__control/redis/stop|start` (restart it in
//   a `finally`; it comes back empty). Keep such tests in one file.
//
// Control endpoints live at the same URL and need no token. With REDIS_URL set,
// both pairs use that server and redis stop/start answer 409.
// See docs/redis-bridge.md.
import type { TestProject } from "vitest/node";
import { type Bridge, startBridge } from "./bridge.mjs";
import { type RedisServerHandle, startRedisServer } from "./redis-server.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    /** Base URL of the shared REST bridge, for `new Redis({ url })`. */
    redisRestUrl: string;
    /** Bearer token the shared bridge expects (append `.<scope>` for scoped counts and faults). */
    redisRestToken: string;
    /** Base URL of the bridge whose Redis outage tests may stop and start. */
    redisOutageRestUrl: string;
    /** Bearer token of that bridge. */
    redisOutageRestToken: string;
  }
}

type Pair = { redisServer: RedisServerHandle; bridge: Bridge };

async function startPair(): Promise<Pair> {
  const redisServer = await startRedisServer();
  try {
    return { redisServer, bridge: await startBridge({ redisServer }) };
  } catch (error) {
    await redisServer.close();
    throw error;
  }
}

async function closePair({ redisServer, bridge }: Pair): Promise<void> {
  await bridge.close();
  await redisServer.close();
}

/** Starts both pairs, provides their addresses, and returns the teardown. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const shared = await startPair();
  const outage = await startPair().catch(async (error: unknown) => {
    await closePair(shared);
    throw error;
  });
  project.provide("redisRestUrl", shared.bridge.url);
  project.provide("redisRestToken", shared.bridge.token);
  project.provide("redisOutageRestUrl", outage.bridge.url);
  project.provide("redisOutageRestToken", outage.bridge.token);
  return async () => {
    await closePair(outage);
    await closePair(shared);
  };
}
