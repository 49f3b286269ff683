// The Redis side of the benchmark, as a child process the bench pins to a CPU
// (its redis-server inherits the pinning): a throwaway redis-server and the
// Upstash-compatible REST bridge in front of it (test/redis/, the same pair the
// tests use). Prints one line `ready {"url","token","redisPort"}` and runs until
// its stdin closes or it is signalled. Request counts: GET <url>/__stats.
import { startBridge } from "../test/redis/bridge.mjs";
import { startRedisServer } from "../test/redis/redis-server.mjs";

// Never a REDIS_URL from the environment: the bench starts and stops its own server.
const redisServer = await startRedisServer({ redisUrl: "" });
const bridge = await startBridge({ redisServer });
console.log(`ready ${JSON.stringify({ url: bridge.url, token: bridge.token, redisPort: redisServer.port })}`);

let closing = false;
async function close() {
  if (closing) return;
  closing = true;
  await bridge.close().catch(() => {});
  await redisServer.close().catch(() => {});
  process.exit(0);
}
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, close);
process.stdin.on("end", close);
process.stdin.resume();
