// `npm run bench`: the gate's cost, side by side with a pass-through Worker and
// with what users would run instead. Writes docs/benchmarks.md and
// docs/bench-chart.svg. See docs/benchmarks.md ("How it is measured").
//
//   npm run bench                  5 rounds, every arm interleaved, then the attribution: ~8 minutes
//   npm run bench -- --quick       1 round, 2 s per measurement (harness check, shared machines)
//   npm run bench -- --soak        ≥ 1,000,000 requests with sessions and rotations; errors and memory
//   options: --rounds N  --seconds S (16-connection runs)  --latency-seconds S (1-connection runs)
//            --arms a,b,c  --no-attribution (skip bench/attribute.mjs)
//            --kv-separate (the KV namespace in a workerd process of its own, on the load CPU)
//            --soak-requests N  --soak-seconds S  --no-write (print, don't write docs)
//            --render (rewrite the docs from the last run's .bench/results.json, measuring nothing)
//
// Needs: wrk (Debian: apt-get install wrk), taskset (util-linux), redis-server, 2+ CPUs.
// All traffic goes to 127.0.0.1; every process started is stopped at the end.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { CLIENT, ROOT, benchPolicy, busyShare, cpuBusy, getJson, login, redisCommands, startAll, stopAll } from "../bench/harness.mjs";
import { cpuMicros, machine, rssKiB } from "../bench/proc.mjs";
import { runWrk, wrkVersion } from "../bench/wrk.mjs";
import { WORKERD_BIN } from "../bench/workerd.mjs";
import { renderChart } from "../bench/chart.mjs";
import { attribute } from "../bench/attribute.mjs";
import { renderHeadline, renderReport, renderSoak, replaceHeadline, replaceSoak } from "../bench/report.mjs";

const REPORT = join(ROOT, "docs", "benchmarks.md");
const CHART = join(ROOT, "docs", "bench-chart.svg");
const README = join(ROOT, "README.md");

/** Connections of the throughput runs: one wrk thread each, one session each (the rotating arm: 32). */
const CONNECTIONS = 16;

/** The arms, in the order they run within a round (odd rounds run it backwards). */
export const ARMS = [
  { id: "origin", label: "origin, directly", short: "origin", target: "origin", path: "/app", proc: "origin", kind: "reference" },
  { id: "pass", label: "pass-through Worker (the floor)", short: "pass-through", target: "pass", path: "/app", proc: "workerd", kind: "reference" },
  { id: "public", label: "gate, public route", short: "gate public", target: "gateKv", path: "/public/page", proc: "workerd", kind: "gate", store: "kv" },
  { id: "kv", label: "gate, session on KV", short: "gate KV", target: "gateKv", path: "/app", proc: "workerd", kind: "gate", session: true, store: "kv" },
  { id: "redis", label: "gate, session on Redis (REST bridge)", short: "gate Redis", target: "gateRedis", path: "/app", proc: "workerd", kind: "gate", session: true, store: "redis" },
  { id: "rotate", label: "gate, KV, rotate_every 2s, grace 1s, 32 sessions per connection", short: "gate KV rotating", perThread: 32, target: "gateRotate", path: "/app", proc: "workerd", kind: "gate", session: true, follow: true, store: "kv" },
  { id: "peer", label: "Node peer: express-session + connect-redis + http-proxy-middleware", short: "Node peer", target: "peer", path: "/app", proc: "peer", kind: "peer", session: true, store: "peer" },
];

function parseArgs(argv) {
  const options = { quick: false, soak: false, write: true, attribution: true, rounds: 5, seconds: 5, latencySeconds: 3, warmSeconds: 1, soakRequests: 1_000_000, soakSeconds: 900, arms: ARMS.map((a) => a.id) };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === "--quick") Object.assign(options, { quick: true, rounds: 1, seconds: 2, latencySeconds: 2, warmSeconds: 1 });
    else if (arg === "--soak") options.soak = true;
    else if (arg === "--no-write") options.write = false;
    else if (arg === "--render") options.render = true;
    else if (arg === "--no-attribution") options.attribution = false;
    else if (arg === "--kv-separate") options.kvSeparate = true;
    else if (arg === "--rounds") options.rounds = Number(value());
    else if (arg === "--seconds") options.seconds = Number(value());
    else if (arg === "--latency-seconds") options.latencySeconds = Number(value());
    else if (arg === "--soak-requests") options.soakRequests = Number(value());
    else if (arg === "--soak-seconds") options.soakSeconds = Number(value());
    else if (arg === "--arms") options.arms = value().split(",");
    else throw new Error(`unknown option ${arg}`);
  }
  for (const id of options.arms) if (!ARMS.some((arm) => arm.id === id)) throw new Error(`unknown arm ${id}`);
  if (!options.arms.includes("pass")) options.arms.unshift("pass"); // every ratio is to it
  return options;
}

function preflight() {
  const problems = [];
  if (!wrkVersion()) problems.push("wrk is not installed (Debian/Ubuntu: apt-get install -y wrk)");
  if (spawnSync("taskset", ["-V"]).error) problems.push("taskset is not installed (util-linux)");
  if (spawnSync(process.env.REDIS_SERVER_BIN ?? "redis-server", ["--version"]).error) problems.push("redis-server is not installed (apt-get install -y redis-server)");
  if (availableParallelism() < 2) problems.push("needs at least 2 CPUs: the Worker gets one, the origin and the load generator the other");
  if (problems.length) throw new Error(`cannot run the benchmark:\n  - ${problems.join("\n  - ")}`);
}

const median = (values) => {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Counters of every store, read before and after a run. */
async function storeCounters(env) {
  const [kv, origin] = await Promise.all([getJson(`${env.urls.kv}/__bench/stats`), getJson(`${env.origin.url}/__stats`)]);
  const counters = { kvOps: kv.get + kv.put + kv.delete + kv.list, kvGets: kv.get, kvPuts: kv.put, originRequests: origin.requests, originGateUser: origin.gateUser, originPeerUser: origin.peerUser };
  if (env.redis) {
    const bridge = await getJson(`${env.redis.url}/__stats`);
    counters.bridgeRequests = bridge.requests;
    counters.bridgeCommands = bridge.commands;
    counters.redisCommands = await redisCommands(env.redis.redisPort);
  }
  return counters;
}

/** Lets the requests a stopped wrk left in flight finish, so they count for no one. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 250));

const diff = (after, before) => Object.fromEntries(Object.keys(after).map((key) => [key, after[key] - before[key]]));

function pidOf(env, arm) {
  return arm.proc === "workerd" ? env.workerd.pid : arm.proc === "peer" ? env.peer.pid : env.origin.pid;
}

function urlOf(env, arm) {
  const base = arm.target === "origin" ? env.origin.url : arm.target === "peer" ? env.peer.url : env.urls[arm.target];
  return `${base}${arm.path}`;
}

/** One measured run of one arm: wrk plus every counter around it. */
async function measure(env, arm, { connections, seconds, track, cookies, cpus }) {
  const pid = pidOf(env, arm);
  await settle();
  const before = await storeCounters(env);
  const cpuBefore = cpuMicros(pid);
  const busyBefore = cpuBusy();
  const wrk = await runWrk({ url: urlOf(env, arm), connections, threads: connections, seconds, cpu: cpus.load, headers: CLIENT, cookies, perThread: arm.perThread ?? 1, follow: arm.follow, track });
  const busy = busyShare(busyBefore, cpuBusy());
  const cpu = cpuMicros(pid) - cpuBefore;
  const counters = diff(await storeCounters(env), before);
  // The counters' own reads (one INFO command per reading) are not the arm's.
  if (counters.redisCommands !== undefined) counters.redisCommands -= 1;
  return { wrk, cpuPerRequest: cpu / wrk.requests, counters, busy: { load: busy[cpus.load], server: busy[cpus.server] } };
}

/** Sessions for an arm, `perThread` per connection; rotating arms get fresh ones before every run (see docs/benchmarks.md). */
async function sessionsFor(env, arm, cache, connections) {
  if (!arm.session) return [];
  const count = connections * (arm.perThread ?? 1);
  if (!arm.follow && cache.get(arm.id)?.length >= count) return cache.get(arm.id).slice(0, count);
  const base = arm.target === "peer" ? env.peer.url : env.urls[arm.target];
  const cookies = await login(base, count, { prefix: arm.id });
  cache.set(arm.id, cookies);
  return cookies;
}

/** Checks an arm does what it claims before it is timed: 200, and the origin saw the identity. */
async function verify(env, arm, cookies) {
  await settle();
  const before = await getJson(`${env.origin.url}/__stats`);
  const response = await fetch(urlOf(env, arm), { headers: { ...CLIENT, ...(cookies[0] ? { cookie: cookies[0] } : {}) } });
  await response.arrayBuffer();
  const after = await getJson(`${env.origin.url}/__stats`);
  if (response.status !== 200) throw new Error(`arm ${arm.id}: expected 200, got ${response.status}`);
  if (after.requests - before.requests !== 1) throw new Error(`arm ${arm.id}: the origin saw ${after.requests - before.requests} requests, not 1`);
  const identified = arm.kind === "peer" ? after.peerUser - before.peerUser : after.gateUser - before.gateUser;
  if (arm.session && identified !== 1) throw new Error(`arm ${arm.id}: the origin got no identity header`);
  if (arm.kind === "gate" && !/gate;dur=[\d.]+/.test(response.headers.get("server-timing") ?? "")) throw new Error(`arm ${arm.id}: no Server-Timing from GATE_DEBUG_TIMING`);
  if (!arm.session && identified !== 0) throw new Error(`arm ${arm.id}: unexpected identity header`);
}

/**
 * Requests from a client the limiter has already refused: how many store calls
 * do they cost? A gate whose default limiter allows 5 requests per 10 s; one
 * session from a fresh IP; then 10 more requests, all refused, counted.
 */
async function blockedCost(env, gate, ip) {
  const headers = { ...CLIENT, "CF-Connecting-IP": ip };
  const [cookie] = await login(env.urls[gate], 1, { prefix: "blocked", headers });
  const send = async () => {
    const response = await fetch(`${env.urls[gate]}/app`, { headers: { ...headers, cookie } });
    await response.arrayBuffer();
    return response.status;
  };
  for (let i = 0; i < 8; i++) await send(); // past the limit of 5 (the login was one)
  const before = await storeCounters(env);
  const statuses = [];
  for (let i = 0; i < 10; i++) statuses.push(await send());
  const counters = diff(await storeCounters(env), before);
  return {
    statuses: [...new Set(statuses)],
    perRequest: gate === "gateRedisTight" ? counters.bridgeRequests / 10 : counters.kvOps / 10,
  };
}

async function runBench(options, cpus) {
  const arms = ARMS.filter((arm) => options.arms.includes(arm.id));
  const tight = benchPolicy({ limit: 5, period: "10s" });
  const env = await startAll({
    loadCpu: cpus.load,
    serverCpu: cpus.server,
    withRedis: true, // also for the blocked-client check on Redis
    kvSeparate: options.kvSeparate,
    withPeer: arms.some((arm) => arm.id === "peer"),
    gates: [
      { name: "gateKvTight", store: "kv", policy: tight, timing: false },
      { name: "gateRedisTight", store: "redis", policy: tight, timing: false },
    ],
  });
  console.log(`started: origin ${env.origin.url}, workerd pid ${env.workerd.pid} on CPU ${cpus.server}, load on CPU ${cpus.load}`);
  const sessions = new Map();
  for (const arm of arms) {
    // A rotating arm's check rotates the session it uses: it gets one of its own.
    await verify(env, arm, arm.follow ? await login(env.urls[arm.target], 1, { prefix: "verify" }) : await sessionsFor(env, arm, sessions, 1));
    const cookies = await sessionsFor(env, arm, sessions, CONNECTIONS);
    // Warm-up: JIT, connection pools, the limiter's and the store's first keys.
    await runWrk({ url: urlOf(env, arm), connections: CONNECTIONS, threads: CONNECTIONS, seconds: options.warmSeconds, cpu: cpus.load, headers: CLIENT, cookies, perThread: arm.perThread ?? 1, follow: arm.follow });
  }
  console.log(`verified and warmed: ${arms.map((a) => a.id).join(", ")}`);

  const runs = [];
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 === 0 ? arms : [...arms].reverse();
    for (const arm of order) {
      const c16 = await measure(env, arm, { connections: CONNECTIONS, seconds: options.seconds, track: false, cookies: await sessionsFor(env, arm, sessions, CONNECTIONS), cpus });
      const c1 = await measure(env, arm, { connections: 1, seconds: options.latencySeconds, track: true, cookies: await sessionsFor(env, arm, sessions, 1), cpus });
      runs.push({ arm: arm.id, round, c16, c1 });
      const errors = c16.wrk.errorCount + c1.wrk.errorCount;
      console.log(
        `round ${round + 1}/${options.rounds} ${arm.id.padEnd(7)} ${c16.wrk.rps.toFixed(0).padStart(6)} req/s @16  ` +
          `p50 ${c1.wrk.latency_us.p50} µs p99 ${c1.wrk.latency_us.p99} µs @1  cpu ${c16.cpuPerRequest.toFixed(0)} µs/req  ` +
          `busy ${(c16.busy.server * 100).toFixed(0)}%/${(c16.busy.load * 100).toFixed(0)}%${errors ? `  ERRORS ${errors}` : ""}`,
      );
    }
  }

  const blocked = {
    kv: await blockedCost(env, "gateKvTight", "10.99.0.1"),
    redis: await blockedCost(env, "gateRedisTight", "10.99.0.2"),
  };
  const summary = summarise(arms, runs);
  return { env, summary, runs, blocked };
}

/** Medians over rounds, and every figure relative to the pass-through arm. */
function summarise(arms, runs) {
  const rows = arms.map((arm) => {
    const mine = runs.filter((run) => run.arm === arm.id);
    const m = (pick) => median(mine.map(pick));
    const perRequest = (run, key) => (run.c16.counters[key] ?? NaN) / run.c16.wrk.requests;
    return {
      arm,
      rounds: mine.length,
      rps: m((r) => r.c16.wrk.rps),
      p50_16: m((r) => r.c16.wrk.latency_us.p50),
      p99_16: m((r) => r.c16.wrk.latency_us.p99),
      p50_1: m((r) => r.c1.wrk.latency_us.p50),
      p99_1: m((r) => r.c1.wrk.latency_us.p99),
      rps_1: m((r) => r.c1.wrk.rps),
      cpu: m((r) => r.c16.cpuPerRequest),
      cpu_1: m((r) => r.c1.cpuPerRequest),
      busyServer: m((r) => r.c16.busy.server),
      busyLoad: m((r) => r.c16.busy.load),
      kvOps: m((r) => perRequest(r, "kvOps")),
      kvPuts: m((r) => perRequest(r, "kvPuts")),
      bridgeRequests: m((r) => perRequest(r, "bridgeRequests")),
      bridgeCommands: m((r) => perRequest(r, "bridgeCommands")),
      redisCommands: m((r) => perRequest(r, "redisCommands")),
      identified: m((r) => (arm.kind === "peer" ? r.c16.counters.originPeerUser : r.c16.counters.originGateUser) / Math.max(1, r.c16.counters.originRequests)),
      gateDur: m((r) => (r.c1.wrk.timed ? r.c1.wrk.gate_sum / r.c1.wrk.timed : NaN)) * 1000,
      timed: mine.reduce((sum, r) => sum + (r.c1.wrk.timed ?? 0), 0),
      rotations: m((r) => r.c16.wrk.rotated / (r.c16.wrk.duration_us / 1e6)),
      errors: mine.reduce((sum, r) => sum + r.c16.wrk.errorCount + r.c1.wrk.errorCount, 0),
      requests: mine.reduce((sum, r) => sum + r.c16.wrk.requests + r.c1.wrk.requests, 0),
    };
  });
  const pass = rows.find((row) => row.arm.id === "pass");
  for (const row of rows) {
    row.ratio = row.rps / pass.rps;
    row.added_p50 = row.p50_1 - pass.p50_1;
    row.added_p99 = row.p99_1 - pass.p99_1;
    row.cpuOverPass = row.arm.proc === "workerd" ? row.cpu - pass.cpu : NaN;
  }
  return rows;
}

/**
 * The soak: ≥ N requests through the rotating KV gate (16 connections, 32
 * sessions each, following every rotation), bounded by count and by time.
 * Errors must be 0, and every session must still be valid afterwards (a lost
 * rotation would show as reuse detection and a 401).
 */
async function runSoak(options, cpus) {
  // KV in its own process: every rotation leaves a pointer in the namespace for its TTL, and that
  // data must not be counted as the gate's memory.
  const env = await startAll({ loadCpu: cpus.load, serverCpu: cpus.server, withRedis: false, withPeer: false, kvSeparate: true });
  const arm = ARMS.find((a) => a.id === "rotate");
  const threads = CONNECTIONS;
  await verify(env, arm, await login(env.urls.gateRotate, 1, { prefix: "verify" }));
  const cookies = await login(env.urls.gateRotate, threads * arm.perThread, { prefix: "soak" });
  const pid = env.workerd.pid;
  const rssStart = rssKiB(pid);
  const samples = [{ t: 0, rss: rssStart }];
  const started = Date.now();
  const sampler = setInterval(() => samples.push({ t: (Date.now() - started) / 1000, rss: rssKiB(pid) }), 10_000);
  const cpuBefore = cpuMicros(pid);
  const kvBefore = await getJson(`${env.urls.kv}/__bench/stats`);
  const originBefore = (await getJson(`${env.origin.url}/__stats`)).requests;
  const perThread = Math.ceil(options.soakRequests / threads);
  console.log(`soak: ${options.soakRequests.toLocaleString("en")} requests, at most ${options.soakSeconds} s; workerd RSS at the start ${(rssStart / 1024).toFixed(1)} MiB`);
  const wrk = await runWrk({
    url: urlOf(env, arm),
    connections: threads,
    threads,
    perThread: arm.perThread,
    seconds: options.soakSeconds,
    cpu: cpus.load,
    headers: CLIENT,
    cookies,
    follow: true,
    stopAfter: perThread,
    // Every thread has stopped once the origin has seen them all.
    done: async () => (await getJson(`${env.origin.url}/__stats`)).requests - originBefore >= perThread * threads,
  });
  clearInterval(sampler);
  const cpu = (cpuMicros(pid) - cpuBefore) / wrk.requests;
  const rssEnd = rssKiB(pid);
  samples.push({ t: (Date.now() - started) / 1000, rss: rssEnd });
  const kvAfter = await getJson(`${env.urls.kv}/__bench/stats`);
  // Every session, with the newest token wrk saw, must still be accepted.
  const statuses = await Promise.all(
    wrk.cookies.map((cookie) =>
      fetch(urlOf(env, arm), { headers: { ...CLIENT, cookie } })
        .then(async (response) => {
          await response.arrayBuffer();
          return response.status;
        })
        .catch(() => "error"),
    ),
  );
  const half = samples.filter((s) => s.t >= samples.at(-1).t / 2);
  return {
    requests: wrk.requests,
    target: options.soakRequests,
    seconds: wrk.duration_us / 1e6,
    rps: wrk.rps,
    errors: wrk.errors,
    errorCount: wrk.errorCount,
    non2xx: wrk.bad,
    rotations: wrk.rotated,
    sessions: cookies.length,
    kvPuts: kvAfter.put - kvBefore.put,
    latency: wrk.latency_us,
    cpuPerRequest: cpu,
    rssStart,
    rssEnd,
    rssMax: Math.max(...samples.map((s) => s.rss)),
    rssSecondHalf: { from: half[0].rss, to: rssEnd },
    samples,
    policy: benchPolicy({ rotateEvery: "2s", rotationGrace: "1s" }).session,
    sessionsValidAfter: statuses.filter((status) => status === 200).length,
  };
}

function versions() {
  const workerd = spawnSync(WORKERD_BIN, ["--version"], { encoding: "utf8" }).stdout.trim();
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  const redis = spawnSync(process.env.REDIS_SERVER_BIN ?? "redis-server", ["--version"], { encoding: "utf8" }).stdout.trim().split(" ").find((w) => w.startsWith("v="));
  return { node: process.version, workerd, wrk: wrkVersion(), redis: redis?.slice(2), deps: { ...pkg.dependencies, ...pkg.devDependencies } };
}

/** Writes the report, the chart and the README's figures from a run's results. */
function writeDocs(result, context) {
  const chart = renderChart(result.summary, context);
  const existing = existsSync(REPORT) ? readFileSync(REPORT, "utf8") : "";
  const report = renderReport(result, context, existing);
  if (!context.options.write) return console.log(report);
  writeFileSync(CHART, chart);
  writeFileSync(REPORT, report);
  console.log(`wrote ${REPORT} and ${CHART}`);
  // The README quotes the headline figures between its markers; only a run of every arm updates them.
  if (ARMS.every((arm) => context.options.arms.includes(arm.id))) {
    const readme = readFileSync(README, "utf8");
    const updated = replaceHeadline(readme, renderHeadline(result, context));
    if (updated !== readme) {
      writeFileSync(README, updated);
      console.log(`updated the figures in ${README}`);
    }
  }
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (options.render) {
    const saved = JSON.parse(readFileSync(join(ROOT, ".bench", "results.json"), "utf8"));
    return writeDocs(saved, { ...saved.context, options: { ...saved.context.options, write: options.write } });
  }
  preflight();
  const cpus = { load: 0, server: 1 };
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
  const context = { machine: { ...machine(), nproc: availableParallelism() }, versions: versions(), command, date: new Date().toISOString(), options, cpus };
  if (options.soak) {
    const soak = await runSoak(options, cpus);
    await stopAll();
    const section = renderSoak(soak, context);
    console.log(section);
    if (options.write) {
      const existing = existsSync(REPORT) ? readFileSync(REPORT, "utf8") : "# Benchmarks\n";
      writeFileSync(REPORT, replaceSoak(existing, section));
      console.log(`wrote the soak section of ${REPORT}`);
    }
    if (soak.errorCount > 0 || soak.requests < soak.target || soak.sessionsValidAfter !== soak.sessions) process.exitCode = 1;
    return;
  }
  const result = await runBench(options, cpus);
  await stopAll();
  if (options.attribution) {
    console.log("attribution: the KV session path with one piece off at a time (bench/attribute.mjs)");
    result.attribution = await attribute({ rounds: options.quick ? 2 : 3, seconds: options.quick ? 2 : 5 }, cpus);
    await stopAll();
  }
  // Every run's raw figures, for whoever wants more than the report shows (git-ignored).
  mkdirSync(join(ROOT, ".bench"), { recursive: true });
  writeFileSync(join(ROOT, ".bench", "results.json"), JSON.stringify({ context, summary: result.summary, runs: result.runs, blocked: result.blocked, attribution: result.attribution }, null, 1));
  writeDocs(result, context);
  if (result.summary.some((row) => row.errors > 0)) {
    console.error("some requests failed: see the errors column");
    process.exitCode = 1;
  }
}

main().catch(async (error) => {
  console.error(error.stack ?? error.message);
  await stopAll();
  process.exit(1);
});
