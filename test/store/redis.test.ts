import { Redis } from "@upstash/redis/cloudflare";
import { describe } from "vitest";
import { createRedisStore } from "../../src/store/redis";
import { redisBridge } from "../helpers/gate";
import { runStoreConformance } from "./conformance";
import { runStoreOutageConformance } from "./outage";

/** The client as src/store/select.ts builds it, over the test bridge to a real redis-server. */
function client(url: string, token: string): Redis {
  return new Redis({
    url,
    token,
    enableAutoPipelining: true,
    automaticDeserialization: false,
    enableTelemetry: false,
    retry: { retries: 0, backoff: () => 0 },
  });
}

// The real @upstash/redis client and the real Lua scripts, against redis-server; Redis's
// own clock expires entries, which tests cannot move, so the TTL section is not registered.
runStoreConformance(
  "Redis",
  async () => {
    const bridge = redisBridge();
    const redis = client(bridge.url, bridge.token);
    return {
      store: createRedisStore(redis),
      corrupt: async (key, raw) => void (await redis.set(key, raw, { ex: 3_600 })),
    };
  },
  { moveClock: false, corrupt: true },
);

describe("Redis store outages", () => {
  runStoreOutageConformance("a Redis nobody answers for", () => createRedisStore(client("http://127.0.0.1:9", "token")));
  runStoreOutageConformance("a bridge that answers HTTP 500", async () => {
    const bridge = redisBridge();
    await bridge.mode("http500");
    return createRedisStore(client(bridge.url, bridge.token));
  });
  runStoreOutageConformance("a bridge that answers garbage", async () => {
    const bridge = redisBridge();
    await bridge.mode("garbage");
    return createRedisStore(client(bridge.url, bridge.token));
  });
});
