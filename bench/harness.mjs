// The processes of a benchmark run and the sessions the load uses. Everything
// listens on 127.0.0.1; every child is ours, tracked by pid, and stopped by
// stopAll() (also on SIGINT/SIGTERM and when the bench exits).
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseToml } from "smol-toml";
import { connectRedis } from "../test/redis/redis-connection.mjs";
import { freePort } from "../test/redis/redis-server.mjs";
import { startWorkerd, writeKvConfig, writeWorkerdConfig } from "./workerd.mjs";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const WORK_DIR = join(ROOT, ".bench");

/** The headers every load request carries: the gate's client IP and a browser-ish User-Agent (session binding). */
export const CLIENT = { "CF-Connecting-IP": "10.20.30.40", "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0.0.0 gatehouse-bench" };

const children = new Set();
/** Directories of ours to remove once the processes using them are stopped. */
const scratch = new Set();
let workerdOutput = [];

/** The last lines workerd printed (the gate's log), for error messages. */
export const lastOutput = () => workerdOutput.join("").split("\n").slice(-15).join("\n");

/** Registers a child process of ours so stopAll() ends it. */
export function track(child) {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/** Spawns `command` pinned to `cpu`, waits for its "ready …" line, returns { child, ready }. */
async function startChild(name, cpu, command, args, env = {}) {
  const child = track(
    spawn("taskset", ["-c", String(cpu), command, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] }),
  );
  const output = [];
  child.stderr.on("data", (chunk) => output.push(chunk.toString()));
  const ready = await new Promise((resolve, reject) => {
    let buffer = "";
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 30 s:\n${output.join("")}`)), 30_000);
    child.stdout.on("data", (chunk) => {
      buffer += chunk;
      const line = buffer.split("\n").find((l) => l.startsWith("ready "));
      if (line) {
        clearTimeout(timer);
        resolve(line.slice("ready ".length));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}):\n${output.join("")}`));
    });
  });
  return { child, ready, output };
}

/** Stops every child we started (SIGTERM by pid, then SIGKILL after 3 s), then removes their scratch directories. */
export async function stopAll() {
  await stopChildren();
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  scratch.clear();
}

async function stopChildren() {
  const alive = [...children];
  for (const child of alive) {
    child.stdin?.end();
    child.kill("SIGTERM");
  }
  await Promise.all(
    alive.map(
      (child) =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
          child.once("exit", () => {
            clearTimeout(timer);
            resolve();
          });
        }),
    ),
  );
}

let built;

/**
 * The gate's bundle, exactly as `wrangler deploy` would upload it (offline: --dry-run); of the tree at `cwd`.
 * This tree's is built once per bench process, so that every phase of a run measures the same `src/`
 * (other engineers may edit it meanwhile).
 */
export function buildBundle({ cwd = ROOT, outdir = join(WORK_DIR, "build") } = {}) {
  if (cwd !== ROOT) return wranglerBuild(cwd, outdir);
  built ??= wranglerBuild(cwd, outdir);
  return built;
}

function wranglerBuild(cwd, outdir) {
  const result = spawnSync(join(ROOT, "node_modules", ".bin", "wrangler"), ["deploy", "--dry-run", "--outdir", outdir], {
    cwd,
    encoding: "utf8",
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: "false",
      WRANGLER_SEND_ERROR_REPORTS: "false",
      WRANGLER_HIDE_BANNER: "true",
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
    },
  });
  if (result.status !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${result.stdout}\n${result.stderr}`);
  return join(outdir, "index.js");
}

/**
 * The benchmark's gate policy: the shipped routes' shape, one limiter on every request, never reached.
 * `routes`: that many routes instead (the scaling note), see {@link manyRoutes}.
 */
export function benchPolicy({ rotateEvery = "15m", rotationGrace = "30s", limit = 100_000_000, period = "1m", routes } = {}) {
  return {
    login_path: "/login",
    session: { idle_timeout: "30m", absolute_timeout: "12h", rotate_every: rotateEvery, rotation_grace: rotationGrace, binding: "report" },
    rate_limits: { default: { limit, period, key: "ip" } },
    routes: routes
      ? manyRoutes(routes)
      : [
          { path: "/login", access: "public" },
          { path: "/public/*", access: "public" },
          { path: "/*", access: "session" },
        ],
  };
}

/**
 * `count` routes (at least 3): `/first/*` first, then prefixes and exact paths
 * alternately, public and session, then `/login` and `/*` last. `/first/page`
 * matches the first route, `/app` only the last.
 */
export function manyRoutes(count) {
  const filler = Array.from({ length: count - 3 }, (_, i) =>
    i % 2 ? { path: `/section-${i}/page-${i}`, access: "public" } : { path: `/section-${i}/*`, access: "session" },
  );
  return [{ path: "/first/*", access: "session" }, ...filler, { path: "/login", access: "public" }, { path: "/*", access: "session" }];
}

/** Starts bench/origin.mjs on `cpu`, signing `X-Gate-Login` with `secret`; returns { url, pid }. */
export async function startOrigin(cpu, secret) {
  const origin = await startChild("origin", cpu, process.execPath, [join(ROOT, "bench", "origin.mjs"), "0"], { BENCH_ORIGIN_SECRET: secret });
  return { url: `http://127.0.0.1:${origin.ready}`, pid: origin.child.pid };
}

/** The Worker in front of a bundle that counts its calls to Durable Objects (bench/workers/count-objects.js). */
export const COUNT_OBJECTS = join(ROOT, "bench", "workers", "count-objects.js");

/**
 * Starts the origin and Redis + bridge (on `loadCpu`), workerd with every
 * Worker, the KV namespace included, and the peer (on `serverCpu`). With
 * `kvSeparate`, the KV namespace gets a workerd process of its own on `loadCpu`.
 * `withDurable` adds `gateDurable` (SESSION_STORE = "durable") and `gateDurableCount`,
 * the same bundle behind a counter of its object calls. Their SQLite files go to
 * a fresh directory on tmpfs (/dev/shm) where there is one, so that the figures are
 * SQLite's CPU and not this machine's disk; `objectsOnDisk` puts them under .bench/run/.
 * Returns their addresses and pids.
 */
export async function startAll({
  loadCpu,
  serverCpu,
  withRedis = true,
  withPeer = true,
  withDurable = false,
  objectsOnDisk = false,
  gates: extraGates = [],
  kvSeparate = false,
}) {
  const kvInProcess = !kvSeparate;
  const bundle = buildBundle();
  const wrangler = parseToml(readFileSync(join(ROOT, "wrangler.toml"), "utf8"));
  const secrets = { gate: randomBytes(32).toString("base64url"), origin: randomBytes(32).toString("base64url") };

  const origin = await startOrigin(loadCpu, secrets.origin);
  const originUrl = origin.url;

  let redis;
  if (withRedis) {
    const store = await startChild("redis", loadCpu, process.execPath, [join(ROOT, "bench", "store.mjs")]);
    redis = { ...JSON.parse(store.ready), pid: store.child.pid };
  }

  const ports = { pass: await freePort(), kv: await freePort() };
  const gates = [
    { name: "gateKv", store: "kv", policy: benchPolicy(), timing: false },
    // The shortest rotation the config allows: rotation_grace must be shorter than rotate_every.
    { name: "gateRotate", store: "kv", policy: benchPolicy({ rotateEvery: "2s", rotationGrace: "1s" }), timing: false },
    ...(withRedis ? [{ name: "gateRedis", store: "redis", policy: benchPolicy(), timing: false }] : []),
    ...(withDurable
      ? [
          { name: "gateDurable", store: "durable", policy: benchPolicy(), timing: false },
          { name: "gateDurableCount", store: "durable", policy: benchPolicy(), timing: false, entry: COUNT_OBJECTS },
        ]
      : []),
    ...extraGates.filter((gate) => withRedis || gate.store !== "redis"),
  ];
  for (const gate of gates) gate.port = ports[gate.name] = await freePort();
  let kvWorkerd;
  if (!kvInProcess) {
    const kvConfig = writeKvConfig({ dir: join(WORK_DIR, "run"), compatibilityDate: wrangler.compatibility_date, port: ports.kv });
    kvWorkerd = track(await startWorkerd({ config: kvConfig, cpu: loadCpu, ports: [ports.kv] }));
  }
  const objects = objectsDirectory(objectsOnDisk);
  const config = writeWorkerdConfig({
    dir: join(WORK_DIR, "run"),
    objects: { disk: objects.dir },
    bundle,
    compatibilityDate: wrangler.compatibility_date,
    originUrl,
    secrets,
    redis,
    pass: { port: ports.pass },
    kv: { port: ports.kv, inProcess: kvInProcess },
    gates,
  });
  // BENCH_INSPECTOR=<host:port>: the gate's workerd opens the V8 inspector there (see bench/profile.mjs).
  const workerd = track(
    await startWorkerd({
      config,
      cpu: serverCpu,
      ports: Object.values(ports).filter((port) => kvInProcess || port !== ports.kv),
      inspector: process.env.BENCH_INSPECTOR,
    }),
  );
  workerdOutput = workerd.output;

  let peer;
  if (withPeer && redis) {
    const started = await startChild("peer", serverCpu, process.execPath, [join(ROOT, "bench", "peer.mjs"), "0", originUrl, String(redis.redisPort)]);
    peer = { url: `http://127.0.0.1:${started.ready}`, pid: started.child.pid };
  }

  const urls = Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, `http://127.0.0.1:${port}`]));
  return {
    secrets,
    origin,
    redis,
    workerd: { pid: workerd.pid, output: workerd.output },
    kv: { pid: kvWorkerd?.pid ?? workerd.pid, inProcess: kvInProcess },
    peer,
    urls,
    objects,
    compatibilityDate: wrangler.compatibility_date,
  };
}

/**
 * Where workerd keeps the Durable Objects' SQLite files (workerd has no in-memory
 * SQLite storage: `inMemory` objects have no SQL API): empty at every start,
 * removed by stopAll().
 */
function objectsDirectory(onDisk) {
  const tmpfs = !onDisk && existsSync("/dev/shm");
  const dir = tmpfs ? join("/dev/shm", `gatehouse-bench-${process.pid}`) : join(WORK_DIR, "run", "objects");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  scratch.add(dir);
  return { dir, tmpfs };
}

/**
 * Logs in through a gate (or the peer) `count` times, 16 at a time; returns the session cookies as `name=value`.
 * Each session is another user's, unless `sub` names the one user they all belong to.
 */
export async function login(baseUrl, count, { prefix = "bench", headers = CLIENT, sub } = {}) {
  const cookies = [];
  for (let start = 0; start < count; start += 16) {
    const batch = Array.from({ length: Math.min(16, count - start) }, (_, i) =>
      loginOnce(baseUrl, sub ?? `${prefix}-${start + i}-${randomBytes(4).toString("hex")}`, headers),
    );
    cookies.push(...(await Promise.all(batch)));
  }
  return cookies;
}

async function loginOnce(baseUrl, sub, headers) {
  const response = await fetch(`${baseUrl}/login?sub=${encodeURIComponent(sub)}`, { headers });
  await response.arrayBuffer();
  const cookie = response.headers
    .getSetCookie()
    .map((value) => value.split(";")[0])
    .find((pair) => /^(__Host-session|connect\.sid)=./.test(pair));
  if (!response.ok || !cookie)
    throw new Error(`login at ${baseUrl} failed: ${response.status} ${JSON.stringify(Object.fromEntries(response.headers))}\n${lastOutput()}`);
  return cookie;
}

/** JSON from a loopback stats endpoint. */
export async function getJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

/** Redis's own count of commands processed (INFO stats), to count the peer's round trips; the reading itself is one command. */
export async function redisCommands(port) {
  const client = connectRedis({ port });
  try {
    const [info] = await client.send([["INFO", "stats"]]);
    return Number(/total_commands_processed:(\d+)/.exec(String(info))?.[1]);
  } finally {
    client.close();
  }
}

/** Busy time of each CPU from /proc/stat (jiffies), to show which core was saturated. */
export function cpuBusy() {
  const lines = readFileSync("/proc/stat", "utf8")
    .split("\n")
    .filter((line) => /^cpu\d+ /.test(line));
  return lines.map((line) => {
    const values = line.split(/\s+/).slice(1).map(Number);
    const idle = values[3] + values[4];
    const total = values.slice(0, 8).reduce((a, b) => a + b, 0);
    return { idle, total };
  });
}

/** Share of time each CPU was busy between two cpuBusy() readings. */
export function busyShare(before, after) {
  return after.map((cpu, i) => {
    const total = cpu.total - before[i].total;
    return total > 0 ? 1 - (cpu.idle - before[i].idle) / total : 0;
  });
}

// However the bench ends (an uncaught error included), none of its processes outlives it.
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping the bench's processes`);
    stopAll().finally(() => process.exit(130));
  });
}
