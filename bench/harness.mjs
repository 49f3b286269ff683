// The processes of a benchmark run and the sessions the load uses. Everything
// listens on 127.0.0.1; every child is ours, tracked by pid, and stopped by
// stopAll() (also on SIGINT/SIGTERM and when the bench exits).
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
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
  const child = track(spawn("taskset", ["-c", String(cpu), command, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] }));
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

/** Stops every child we started (SIGTERM by pid, then SIGKILL after 3 s). */
export async function stopAll() {
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

/** The gate's bundle, exactly as `wrangler deploy` would upload it (offline: --dry-run). */
export function buildBundle() {
  const outdir = join(WORK_DIR, "build");
  const result = spawnSync(join(ROOT, "node_modules", ".bin", "wrangler"), ["deploy", "--dry-run", "--outdir", outdir], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_SEND_ERROR_REPORTS: "false", WRANGLER_HIDE_BANNER: "true", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
  });
  if (result.status !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${result.stdout}\n${result.stderr}`);
  return join(outdir, "index.js");
}

/** The benchmark's gate policy: the shipped routes' shape, one limiter on every request, never reached. */
export function benchPolicy({ rotateEvery = "15m", rotationGrace = "30s", limit = 100_000_000, period = "1m" } = {}) {
  return {
    login_path: "/login",
    session: { idle_timeout: "30m", absolute_timeout: "12h", rotate_every: rotateEvery, rotation_grace: rotationGrace, binding: "report" },
    rate_limits: { default: { limit, period, key: "ip" } },
    routes: [
      { path: "/login", access: "public" },
      { path: "/public/*", access: "public" },
      { path: "/*", access: "session" },
    ],
  };
}

/**
 * Starts the origin and Redis + bridge (on `loadCpu`), workerd with every
 * Worker, the KV namespace included, and the peer (on `serverCpu`). With
 * `kvSeparate`, the KV namespace gets a workerd process of its own on `loadCpu`.
 * Returns their addresses and pids.
 */
export async function startAll({ loadCpu, serverCpu, withRedis = true, withPeer = true, gates: extraGates = [], kvSeparate = false }) {
  const kvInProcess = !kvSeparate;
  const bundle = buildBundle();
  const wrangler = parseToml(readFileSync(join(ROOT, "wrangler.toml"), "utf8"));
  const secrets = { gate: randomBytes(32).toString("base64url"), origin: randomBytes(32).toString("base64url") };

  const origin = await startChild("origin", loadCpu, process.execPath, [join(ROOT, "bench", "origin.mjs"), "0"], { BENCH_ORIGIN_SECRET: secrets.origin });
  const originUrl = `http://127.0.0.1:${origin.ready}`;

  let redis;
  if (withRedis) {
    const store = await startChild("redis", loadCpu, process.execPath, [join(ROOT, "bench", "store.mjs")]);
    redis = { ...JSON.parse(store.ready), pid: store.child.pid };
  }

  const ports = { pass: await freePort(), kv: await freePort() };
  const gates = [
    { name: "gateKv", store: "kv", policy: benchPolicy(), timing: true },
    // The shortest rotation the config allows: rotation_grace must be shorter than rotate_every.
    { name: "gateRotate", store: "kv", policy: benchPolicy({ rotateEvery: "2s", rotationGrace: "1s" }), timing: true },
    ...(withRedis ? [{ name: "gateRedis", store: "redis", policy: benchPolicy(), timing: true }] : []),
    ...extraGates.filter((gate) => withRedis || gate.store !== "redis"),
  ];
  for (const gate of gates) gate.port = ports[gate.name] = await freePort();
  let kvWorkerd;
  if (!kvInProcess) {
    const kvConfig = writeKvConfig({ dir: join(WORK_DIR, "run"), compatibilityDate: wrangler.compatibility_date, port: ports.kv });
    kvWorkerd = track(await startWorkerd({ config: kvConfig, cpu: loadCpu, ports: [ports.kv] }));
  }
  const config = writeWorkerdConfig({
    dir: join(WORK_DIR, "run"),
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
  const workerd = track(await startWorkerd({ config, cpu: serverCpu, ports: Object.values(ports).filter((port) => kvInProcess || port !== ports.kv), inspector: process.env.BENCH_INSPECTOR }));
  workerdOutput = workerd.output;

  let peer;
  if (withPeer && redis) {
    const started = await startChild("peer", serverCpu, process.execPath, [join(ROOT, "bench", "peer.mjs"), "0", originUrl, String(redis.redisPort)]);
    peer = { url: `http://127.0.0.1:${started.ready}`, pid: started.child.pid };
  }

  const urls = Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, `http://127.0.0.1:${port}`]));
  return {
    secrets,
    origin: { url: originUrl, pid: origin.child.pid },
    redis,
    workerd: { pid: workerd.pid, output: workerd.output },
    kv: { pid: kvWorkerd?.pid ?? workerd.pid, inProcess: kvInProcess },
    peer,
    urls,
    compatibilityDate: wrangler.compatibility_date,
  };
}

/** Logs in through a gate (or the peer) `count` times, 16 at a time; returns the session cookies as `name=value`. */
export async function login(baseUrl, count, { prefix = "bench", headers = CLIENT } = {}) {
  const cookies = [];
  for (let start = 0; start < count; start += 16) {
    const batch = Array.from({ length: Math.min(16, count - start) }, (_, i) => loginOnce(baseUrl, `${prefix}-${start + i}`, headers));
    cookies.push(...(await Promise.all(batch)));
  }
  return cookies;
}

async function loginOnce(baseUrl, name, headers) {
  const response = await fetch(`${baseUrl}/login?sub=${name}-${randomBytes(4).toString("hex")}`, { headers });
  await response.arrayBuffer();
  const cookie = response.headers.getSetCookie().map((value) => value.split(";")[0]).find((pair) => /^(__Host-session|connect\.sid)=./.test(pair));
  if (!response.ok || !cookie) throw new Error(`login at ${baseUrl} failed: ${response.status} ${JSON.stringify(Object.fromEntries(response.headers))}\n${lastOutput()}`);
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
  const lines = readFileSync("/proc/stat", "utf8").split("\n").filter((line) => /^cpu\d+ /.test(line));
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
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping the bench's processes`);
    stopAll().finally(() => process.exit(130));
  });
}
