// What `npm run bench` measures besides the wrk arms (bench/arms.mjs):
//   refreshRun     DBSC refreshes (POST /_gate/dbsc/refresh with a valid proof) in
//                  chains from Node: workerd CPU and store calls per refresh
//   objectCalls    the Durable Object calls per request (or per refresh) of the
//                  durable gate, counted on its twin behind bench/workers/count-objects.js
//   blockedCost    store calls per request of a client the limiter already refused
//   websocketArm   bench/websocket.mjs, when it is there
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { CLIENT, ROOT, getJson, login, track } from "./harness.mjs";
import { CONNECTIONS, diff, loadOf, settle, storeCounters } from "./arms.mjs";
import { bindSessions, refreshLoad } from "./dbsc.mjs";
import { cpuMicros } from "./proc.mjs";
import { runWrk } from "./wrk.mjs";

const perEach = (counts, n) => Object.fromEntries(Object.entries(counts).map(([method, calls]) => [method, calls / n]));
const total = (counts) => Object.values(counts).reduce((a, b) => a + b, 0);

/** Sessions bound to fresh keys for the refresh runs, CONNECTIONS of them. */
export const refreshSessions = (env, gate) => bindSessions(env.urls[gate], CONNECTIONS, { prefix: `refresh-${gate}`, headers: CLIENT });

/** One refresh run on `gate`: CONNECTIONS chains for `seconds`, with workerd's CPU and the store counters around it. */
export async function refreshRun(env, gate, sessions, seconds) {
  await settle();
  const before = await storeCounters(env);
  const cpuBefore = cpuMicros(env.workerd.pid);
  const load = await refreshLoad(env.urls[gate], sessions, CLIENT, seconds);
  const cpu = cpuMicros(env.workerd.pid) - cpuBefore;
  const counters = diff(await storeCounters(env), before);
  return {
    ...load,
    rps: load.refreshes / seconds,
    cpuPerRefresh: cpu / load.refreshes,
    kvOpsPerRefresh: counters.kvOps / load.refreshes,
    retries: load.requests - load.refreshes,
  };
}

/**
 * The Durable Object calls of `arm` (by method, per request), on its counting
 * twin: the same bundle and policy, so the same calls; after a warm-up, since an
 * isolate's first look-up of a token goes through its directory shard.
 * With `refreshes`, the calls per DBSC refresh as well.
 */
export async function objectCalls(env, arm, { seconds, cpus }) {
  const base = env.urls[arm.counter];
  const twin = { ...arm, target: arm.counter };
  const cookies = await login(base, CONNECTIONS, { prefix: "count" });
  const load = { ...loadOf(env, twin, cookies, cpus), connections: CONNECTIONS, threads: CONNECTIONS };
  await runWrk({ ...load, seconds: 1 });
  await settle();
  await getJson(`${base}/__bench/objects?reset=1`);
  const wrk = await runWrk({ ...load, seconds });
  await settle();
  const browsing = perEach(await getJson(`${base}/__bench/objects?reset=1`), wrk.requests);
  const bound = await bindSessions(base, CONNECTIONS, { prefix: "count-refresh", headers: CLIENT });
  await refreshLoad(base, bound, CLIENT, 1);
  await getJson(`${base}/__bench/objects?reset=1`);
  const refreshed = await refreshLoad(base, bound, CLIENT, Math.min(2, seconds));
  const refresh = perEach(await getJson(`${base}/__bench/objects?reset=1`), refreshed.refreshes);
  return { browsing, perRequest: total(browsing), refresh, perRefresh: total(refresh) };
}

/**
 * Requests from a client the limiter has already refused: how many store calls
 * do they cost? A gate whose default limiter allows 5 requests per 10 s; one
 * session from a fresh IP; then 10 more requests, all refused, counted with
 * `calls()` (the store's own counter: KV calls, bridge requests, object calls).
 */
export async function blockedCost(env, gate, ip, calls) {
  const headers = { ...CLIENT, "CF-Connecting-IP": ip };
  const [cookie] = await login(env.urls[gate], 1, { prefix: "blocked", headers });
  const send = async () => {
    const response = await fetch(`${env.urls[gate]}/app`, { headers: { ...headers, cookie } });
    await response.arrayBuffer();
    return response.status;
  };
  for (let i = 0; i < 8; i++) await send(); // past the limit of 5 (the login was one)
  const before = await calls();
  const statuses = [];
  for (let i = 0; i < 10; i++) statuses.push(await send());
  return { statuses: [...new Set(statuses)], perRequest: ((await calls()) - before) / 10 };
}

/** The store-call counters blockedCost() reads, per store. */
export const callCounters = (env) => ({
  kv: async () => (await storeCounters(env)).kvOps,
  redis: async () => (await getJson(`${env.redis.url}/__stats`)).requests,
  durable: async () => total(await getJson(`${env.urls.gateDurableTight}/__bench/objects`)),
});

/**
 * The WebSocket arm: bench/websocket.mjs (direct, pass-through Worker, gate), run as
 * a child of its own (it starts its own workerd and origin) with `--json`; its results'
 * `summary` goes into the report. Without the file, `{ missing: true }`.
 */
export async function websocketArm({ quick }) {
  const script = join(ROOT, "bench", "websocket.mjs");
  if (!existsSync(script)) return { missing: true };
  // Every CPU again (the bench itself is pinned to the load CPU): the script pins its own processes.
  const every = `0-${cpus().length - 1}`;
  const args = ["-c", every, process.execPath, script, "--json", ...(quick ? ["--quick"] : [])];
  const child = track(spawn("taskset", args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] }));
  let out = "";
  let err = "";
  child.stdout.on("data", (chunk) => (out += chunk));
  child.stderr.on("data", (chunk) => (err += chunk));
  const code = await new Promise((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`bench/websocket.mjs failed (exit ${code}):\n${err.slice(-2000)}`);
  const result = JSON.parse(out.slice(out.indexOf("{")));
  if (!Array.isArray(result.summary)) throw new Error("bench/websocket.mjs --json printed no summary");
  return result;
}
