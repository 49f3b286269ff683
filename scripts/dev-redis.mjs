// `npm run dev:redis`: like `npm start`, but sessions live in Redis. Starts a
// throwaway redis-server (or uses REDIS_URL), the Upstash-compatible REST
// bridge in front of it (test/redis/bridge.mjs, http://127.0.0.1:8079), the
// demo origin, and `wrangler dev` with SESSION_STORE=redis pointed at the
// bridge. Ctrl-C stops everything; if one child exits, the rest are stopped.
import { join } from "node:path";
import { startBridge } from "../test/redis/bridge.mjs";
import { startRedisServer } from "../test/redis/redis-server.mjs";
import { REPO_ROOT, ensureDevVars } from "./dev-vars.mjs";
import { READY_TIMEOUT_SECONDS, createSupervisor, waitForGate, wranglerDev } from "./lib/dev-stack.mjs";
const BRIDGE_PORT = Number(process.env.BRIDGE_PORT ?? 8079);
const GATE_PORT = Number(process.env.GATE_PORT ?? 8787);
const DEMO_PORT = Number(process.env.DEMO_PORT ?? 8788);
const supervisor = createSupervisor();

function banner(redisServer, bridge) {
  const redis = redisServer.external ? `${redisServer.url} (REDIS_URL; not stopped on exit)` : `${redisServer.url} (throwaway, no persistence)`;
  console.log(
    [
      "",
      "Gatehouse is running with SESSION_STORE=redis",
      "",
      `  gate       http://localhost:${GATE_PORT}/`,
      `  origin     http://127.0.0.1:${DEMO_PORT}/`,
      `  bridge     ${bridge.url}  (Upstash REST, token ${bridge.token})`,
      `  redis      ${redis}`,
      "",
      "  outage drills (loopback, no token):",
      `    curl -X POST ${bridge.url}/__control/redis/stop     # and /__control/redis/start`,
      `    curl -X POST ${bridge.url}/__control/mode -d '{"mode":"hang"}'   # normal | http500 | garbage | hang`,
      `    curl ${bridge.url}/__stats`,
      "  Ctrl-C stops everything.",
      "",
    ].join("\n"),
  );
}

async function main() {
  const vars = ensureDevVars() ?? {};
  const redisServer = await startRedisServer();
  supervisor.onStop(() => redisServer.close());
  const bridge = await startBridge({ redisServer, port: BRIDGE_PORT, token: process.env.BRIDGE_TOKEN || undefined });
  supervisor.onStop(() => bridge.close());

  supervisor.run("[origin]", process.execPath, [join(REPO_ROOT, "demo", "origin.mjs")], {
    DEMO_PORT: String(DEMO_PORT),
    ...(vars.GATE_ORIGIN_SECRET ? { GATE_ORIGIN_SECRET: vars.GATE_ORIGIN_SECRET } : {}),
  });
  // `--var KEY:VALUE` (split at the first colon) overrides wrangler.toml's [vars] for this run only.
  const extra = [
    "--var",
    "SESSION_STORE:redis",
    "--var",
    `UPSTASH_REDIS_REST_URL:${bridge.url}`,
    "--var",
    `UPSTASH_REDIS_REST_TOKEN:${bridge.token}`,
  ];
  if (process.env.DEMO_PORT) extra.push("--var", `ORIGIN_URL:http://localhost:${DEMO_PORT}`);
  const gate = wranglerDev(GATE_PORT, extra);
  supervisor.run("[gate]  ", gate.command, gate.args, gate.env);

  const state = await waitForGate(GATE_PORT, () => supervisor.stopping);
  if (state !== "timeout") banner(redisServer, bridge);
  else if (!supervisor.stopping) console.warn(`the gate did not answer /_gate/health within ${READY_TIMEOUT_SECONDS} s; see the [gate] lines above`);
}

main().catch((error) => {
  console.error(error.message);
  supervisor.stop(1);
});
