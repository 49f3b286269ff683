// `npm run dev:redis`: like `npm start`, but sessions live in Redis. Starts a
// throwaway redis-server (or uses REDIS_URL), the Upstash-compatible REST
// bridge in front of it (test/redis/bridge.mjs, http://127.0.0.1:8079), the
// demo origin, and `wrangler dev` with SESSION_STORE=redis pointed at the
// bridge. Ctrl-C stops everything; if one child exits, the rest are stopped.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { startBridge } from "../test/redis/bridge.mjs";
import { startRedisServer } from "../test/redis/redis-server.mjs";

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
const BRIDGE_PORT = Number(process.env.BRIDGE_PORT ?? 8079);
const GATE_PORT = Number(process.env.GATE_PORT ?? 8787);
const DEMO_PORT = Number(process.env.DEMO_PORT ?? 8788);
const READY_TIMEOUT_MS = 60_000;
/** How long a child gets to exit after SIGTERM before SIGKILL. */
const KILL_GRACE_MS = 5_000;

const children = [];
const resources = [];
let stopping = false;

/** Copies a child's output line by line, each line prefixed with its name. */
function prefixOutput(stream, label, target) {
  createInterface({ input: stream, crlfDelay: Infinity }).on("line", (line) => target.write(`${label} ${line}\n`));
}

function run(name, command, args, env) {
  const child = spawn(command, args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const label = `[${name}]`.padEnd(8);
  prefixOutput(child.stdout, label, process.stdout);
  prefixOutput(child.stderr, label, process.stderr);
  child.on("error", (error) => {
    console.error(`${label} could not start: ${error.message}`);
    stop(1);
  });
  child.on("exit", (status, signal) => {
    child.exited = true;
    if (stopping) return;
    console.error(`${label} exited (${signal ?? `code ${status}`}); stopping.`);
    stop(status || 1);
  });
  children.push(child);
}

/** Stops the children (SIGTERM, SIGKILL after a grace period), then the bridge and Redis, and exits. */
async function stop(code) {
  if (stopping) return;
  stopping = true;
  const alive = children.filter((child) => !child.exited && child.pid);
  for (const child of alive) child.kill("SIGTERM");
  const killer = setTimeout(() => alive.forEach((child) => child.exited || child.kill("SIGKILL")), KILL_GRACE_MS);
  await Promise.all(alive.map((child) => new Promise((resolve) => (child.exited ? resolve() : child.once("exit", resolve)))));
  clearTimeout(killer);
  for (const close of resources.reverse()) await close().catch((error) => console.error(`cleanup: ${error.message}`));
  process.exit(code);
}

/** `.dev.vars` via scripts/dev-vars.mjs when that helper exists; otherwise whatever is there already. */
async function devVars() {
  const helper = join(REPO_ROOT, "scripts", "dev-vars.mjs");
  if (!existsSync(helper)) return {};
  const { ensureDevVars } = await import(pathToFileURL(helper).href);
  return ensureDevVars() ?? {};
}

async function waitForGate() {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!stopping && Date.now() < deadline) {
    try {
      if ((await fetch(`http://127.0.0.1:${GATE_PORT}/_gate/health`, { signal: AbortSignal.timeout(2_000) })).ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return false;
}

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
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => stop(0));
  // Under `npm run`, a SIGTERM to npm may not reach us; notice being orphaned instead of lingering.
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && stop(0), 1_000).unref();

  const vars = await devVars();
  const redisServer = await startRedisServer();
  resources.push(() => redisServer.close());
  const bridge = await startBridge({ redisServer, port: BRIDGE_PORT, token: process.env.BRIDGE_TOKEN || undefined });
  resources.push(() => bridge.close());

  run("origin", process.execPath, [join(REPO_ROOT, "demo", "origin.mjs")], {
    DEMO_PORT: String(DEMO_PORT),
    ...(vars.GATE_ORIGIN_SECRET ? { GATE_ORIGIN_SECRET: vars.GATE_ORIGIN_SECRET } : {}),
  });
  const wrangler = join(REPO_ROOT, "node_modules", ".bin", process.platform === "win32" ? "wrangler.cmd" : "wrangler");
  const args = ["dev", "--local", "--ip", "127.0.0.1", "--port", String(GATE_PORT), "--show-interactive-dev-session=false"];
  // `--var KEY:VALUE` (split at the first colon) overrides wrangler.toml's [vars] for this run only.
  args.push("--var", "SESSION_STORE:redis", "--var", `UPSTASH_REDIS_REST_URL:${bridge.url}`, "--var", `UPSTASH_REDIS_REST_TOKEN:${bridge.token}`);
  if (process.env.DEMO_PORT) args.push("--var", `ORIGIN_URL:http://localhost:${DEMO_PORT}`);
  run("gate", wrangler, args, {
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_SEND_ERROR_REPORTS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_HIDE_BANNER: "true",
  });

  if (await waitForGate()) banner(redisServer, bridge);
  else if (!stopping) console.warn(`the gate did not answer /_gate/health within ${READY_TIMEOUT_MS / 1000} s; see the [gate] lines above`);
}

main().catch((error) => {
  console.error(error.message);
  stop(1);
});
