// `npm run bench`: the gate's cost, side by side with a pass-through Worker and
// with what users would run instead. Writes docs/benchmarks.md and
// docs/bench-chart.svg. See docs/benchmarks.md ("How it is measured").
//
//   npm run bench                  5 rounds, every arm interleaved, then the attribution, the
//                                  scaling note, the startup and the WebSocket arm: ~16 minutes
//   npm run bench -- --quick       1 round, 2 s per measurement (harness check, shared machines)
//   npm run bench -- --soak        ≥ 1,000,000 requests with sessions and rotations; errors and memory
//   options: --rounds N  --seconds S (16-connection runs)  --latency-seconds S (1-connection runs)
//            --arms a,b,c  --no-attribution (skip bench/attribute.mjs)  --no-scaling  --no-startup
//            --no-websocket  --startup-samples N
//            --kv-separate (the KV namespace in a workerd process of its own, on the load CPU)
//            --objects-disk (the Durable Objects' SQLite files on disk, not on tmpfs)
//            --soak-requests N  --soak-seconds S  --no-write (print, don't write docs)
//            --render (rewrite the docs from the last run's .bench/results.json, measuring nothing)
//
// Needs: wrk (Debian: apt-get install wrk), taskset (util-linux), redis-server, 2+ CPUs.
// All traffic goes to 127.0.0.1; every process started is stopped at the end.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { ARMS, CONNECTIONS, loadOf, measure, sessionsFor, urlOf, verify } from "../bench/arms.mjs";
import { attribute, snapshotSrc } from "../bench/attribute.mjs";
import { renderChart } from "../bench/chart.mjs";
import { blockedCost, callCounters, objectCalls, refreshRun, refreshSessions, websocketArm } from "../bench/extras.mjs";
import { CLIENT, COUNT_OBJECTS, ROOT, benchPolicy, getJson, login, startAll, stopAll } from "../bench/harness.mjs";
import { cpuMicros, machine, rssKiB } from "../bench/proc.mjs";
import { renderHeadline, renderReport, renderSoak, replaceHeadline, replaceSoak } from "../bench/report.mjs";
import { scaling } from "../bench/scaling.mjs";
import { startup, startupBundles } from "../bench/startup.mjs";
import { WORKERD_BIN } from "../bench/workerd.mjs";
import { runWrk, wrkVersion } from "../bench/wrk.mjs";

const REPORT = join(ROOT, "docs", "benchmarks.md");
const CHART = join(ROOT, "docs", "bench-chart.svg");
const README = join(ROOT, "README.md");

export { ARMS };

/** The DBSC refresh runs, on each store that has them. */
const REFRESH_GATES = { kv: "gateKv", durable: "gateDurable" };

function parseArgs(argv) {
  const options = {
    quick: false,
    soak: false,
    write: true,
    attribution: true,
    scaling: true,
    startup: true,
    websocket: true,
    rounds: 5,
    seconds: 5,
    latencySeconds: 3,
    warmSeconds: 1,
    startupSamples: 25,
    soakRequests: 1_000_000,
    soakSeconds: 900,
    arms: ARMS.map((a) => a.id),
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === "--quick") Object.assign(options, { quick: true, rounds: 1, seconds: 2, latencySeconds: 1, warmSeconds: 1, startupSamples: 5 });
    else if (arg === "--soak") options.soak = true;
    else if (arg === "--no-write") options.write = false;
    else if (arg === "--render") options.render = true;
    else if (arg === "--no-attribution") options.attribution = false;
    else if (arg === "--no-scaling") options.scaling = false;
    else if (arg === "--no-startup") options.startup = false;
    else if (arg === "--no-websocket") options.websocket = false;
    else if (arg === "--objects-disk") options.objectsDisk = true;
    else if (arg === "--startup-samples") options.startupSamples = Number(value());
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
  // Every ratio is to a reference arm: the pass-through Worker, or the one the arm names.
  for (const id of [...options.arms]) {
    const ref = ARMS.find((arm) => arm.id === id).ref ?? "pass";
    if (!options.arms.includes(ref)) options.arms.unshift(ref);
  }
  if (!options.arms.includes("pass")) options.arms.unshift("pass");
  return options;
}

function preflight() {
  const problems = [];
  if (!wrkVersion()) problems.push("wrk is not installed (Debian/Ubuntu: apt-get install -y wrk)");
  if (spawnSync("taskset", ["-V"]).error) problems.push("taskset is not installed (util-linux)");
  if (spawnSync(process.env.REDIS_SERVER_BIN ?? "redis-server", ["--version"]).error)
    problems.push("redis-server is not installed (apt-get install -y redis-server)");
  if (availableParallelism() < 2) problems.push("needs at least 2 CPUs: the Worker gets one, the origin and the load generator the other");
  if (problems.length) throw new Error(`cannot run the benchmark:\n  - ${problems.join("\n  - ")}`);
}

const median = (values) => {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Verifies and warms every arm, and sets up what the extras need (object counts, bound sessions for refreshes). */
async function prepare(env, arms, options, cpus) {
  const sessions = new Map();
  for (const arm of arms) {
    // A rotating arm's check rotates the session it uses: it gets one of its own.
    await verify(env, arm, arm.follow ? await login(env.urls[arm.target], 1, { prefix: "verify" }) : await sessionsFor(env, arm, sessions, 1));
    const cookies = await sessionsFor(env, arm, sessions, CONNECTIONS);
    // Warm-up: JIT, connection pools, the limiter's and the store's first keys.
    await runWrk({ ...loadOf(env, arm, cookies, cpus), connections: CONNECTIONS, threads: CONNECTIONS, seconds: options.warmSeconds });
  }
  const durable = arms.find((arm) => arm.counter);
  const objects = durable ? await objectCalls(env, durable, { seconds: Math.max(2, options.latencySeconds), cpus }) : undefined;
  const refresh = {};
  if (arms.some((arm) => arm.bound)) {
    for (const [store, gate] of Object.entries(REFRESH_GATES)) {
      refresh[store] = await refreshSessions(env, gate);
      await refreshRun(env, gate, refresh[store], options.warmSeconds);
    }
  }
  console.log(
    `verified and warmed: ${arms.map((a) => a.id).join(", ")}${objects ? `; durable: ${objects.perRequest.toFixed(2)} object calls per request` : ""}`,
  );
  return { sessions, objects, refresh };
}

async function runBench(options, cpus) {
  const arms = ARMS.filter((arm) => options.arms.includes(arm.id));
  const tight = benchPolicy({ limit: 5, period: "10s" });
  const env = await startAll({
    loadCpu: cpus.load,
    serverCpu: cpus.server,
    withRedis: true, // also for the blocked-client check on Redis
    withDurable: true, // also for the blocked-client check on Durable Objects
    objectsOnDisk: options.objectsDisk,
    kvSeparate: options.kvSeparate,
    withPeer: arms.some((arm) => arm.id === "peer"),
    gates: [
      { name: "gateKvTight", store: "kv", policy: tight, timing: false },
      { name: "gateRedisTight", store: "redis", policy: tight, timing: false },
      { name: "gateDurableTight", store: "durable", policy: tight, timing: false, entry: COUNT_OBJECTS },
    ],
  });
  console.log(`started: origin ${env.origin.url}, workerd pid ${env.workerd.pid} on CPU ${cpus.server}, load on CPU ${cpus.load}`);
  const { sessions, objects, refresh } = await prepare(env, arms, options, cpus);

  const runs = [];
  const refreshes = [];
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 === 0 ? arms : [...arms].reverse();
    for (const arm of order) {
      const c16 = await measure(env, arm, {
        connections: CONNECTIONS,
        seconds: options.seconds,
        track: false,
        cookies: await sessionsFor(env, arm, sessions, CONNECTIONS),
        cpus,
      });
      const c1 = await measure(env, arm, {
        connections: 1,
        seconds: options.latencySeconds,
        track: true,
        cookies: await sessionsFor(env, arm, sessions, 1),
        cpus,
      });
      runs.push({ arm: arm.id, round, c16, c1 });
      const errors = c16.wrk.errorCount + c1.wrk.errorCount;
      console.log(
        `round ${round + 1}/${options.rounds} ${arm.id.padEnd(9)} ${c16.wrk.rps.toFixed(0).padStart(6)} req/s @16  ` +
          `p50 ${c1.wrk.latency_us.p50} µs p99 ${c1.wrk.latency_us.p99} µs @1  cpu ${c16.cpuPerRequest.toFixed(0)} µs/req  ` +
          `busy ${(c16.busy.server * 100).toFixed(0)}%/${(c16.busy.load * 100).toFixed(0)}%${errors ? `  ERRORS ${errors}` : ""}`,
      );
      // The DBSC refreshes run right after the steady browsing of bound sessions, in the same round.
      if (!arm.bound) continue;
      for (const [store, gate] of Object.entries(REFRESH_GATES)) {
        const run = await refreshRun(env, gate, refresh[store], options.seconds);
        refreshes.push({ store, round, ...run });
        console.log(
          `round ${round + 1}/${options.rounds} refresh-${store.padEnd(7)} ${run.rps.toFixed(0).padStart(5)} refreshes/s  cpu ${run.cpuPerRefresh.toFixed(0)} µs/refresh`,
        );
      }
    }
  }

  const counters = callCounters(env);
  const blocked = {
    kv: await blockedCost(env, "gateKvTight", "10.99.0.1", counters.kv),
    redis: await blockedCost(env, "gateRedisTight", "10.99.0.2", counters.redis),
    durable: await blockedCost(env, "gateDurableTight", "10.99.0.3", counters.durable),
  };
  const summary = summarise(arms, runs);
  return { env, summary, runs, blocked, objects, refresh: summariseRefresh(refreshes, summary), refreshRuns: refreshes };
}

/** The refresh runs' medians per store, with the pass-through Worker's CPU per request of the same run for reference. */
function summariseRefresh(refreshes, summary) {
  const pass = summary.find((row) => row.arm.id === "pass");
  const stores = [...new Set(refreshes.map((run) => run.store))];
  return Object.fromEntries(
    stores.map((store) => {
      const mine = refreshes.filter((run) => run.store === store);
      const m = (pick) => median(mine.map(pick));
      const cpu = m((r) => r.cpuPerRefresh);
      return [
        store,
        {
          rounds: mine.length,
          rps: m((r) => r.rps),
          cpuPerRefresh: cpu,
          cpuOverPass: cpu - pass.cpu,
          kvOpsPerRefresh: m((r) => r.kvOpsPerRefresh),
          retries: mine.reduce((sum, r) => sum + r.retries, 0),
        },
      ];
    }),
  );
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
      identified: m(
        (r) => (arm.kind === "peer" ? r.c16.counters.originPeerUser : r.c16.counters.originGateUser) / Math.max(1, r.c16.counters.originRequests),
      ),
      timed: mine.reduce((sum, r) => sum + (r.c1.wrk.timed ?? 0), 0),
      rotations: m((r) => r.c16.wrk.rotated / (r.c16.wrk.duration_us / 1e6)),
      errors: mine.reduce((sum, r) => sum + r.c16.wrk.errorCount + r.c1.wrk.errorCount, 0),
      requests: mine.reduce((sum, r) => sum + r.c16.wrk.requests + r.c1.wrk.requests, 0),
    };
  });
  for (const row of rows) {
    // Each arm against its reference: the pass-through Worker on the same kind of request.
    const pass = rows.find((r) => r.arm.id === (row.arm.ref ?? "pass"));
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
  console.log(
    `soak: ${options.soakRequests.toLocaleString("en")} requests, at most ${options.soakSeconds} s; workerd RSS at the start ${(rssStart / 1024).toFixed(1)} MiB`,
  );
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
  const redis = spawnSync(process.env.REDIS_SERVER_BIN ?? "redis-server", ["--version"], { encoding: "utf8" })
    .stdout.trim()
    .split(" ")
    .find((w) => w.startsWith("v="));
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
  // The README quotes the headline figures between its markers; only a full run of every arm updates them.
  if (!context.options.quick && ARMS.every((arm) => context.options.arms.includes(arm.id))) {
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
  const context = {
    machine: { ...machine(), nproc: availableParallelism() },
    versions: versions(),
    command,
    date: new Date().toISOString(),
    options,
    cpus,
  };
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
  // The bench's own work (the DBSC signer, the timed requests) stays on the load CPU, away from the Worker's.
  spawnSync("taskset", ["-a", "-cp", String(cpus.load), String(process.pid)], { stdio: "ignore" });
  // Every bundle of the run from the same src/ (other engineers may edit it meanwhile).
  const bundles = options.startup ? startupBundles() : undefined;
  const src = options.attribution ? snapshotSrc() : undefined;
  const result = await runBench(options, cpus);
  await stopAll();
  await runPhases(result, options, cpus, { bundles, src });
  // Every run's raw figures, for whoever wants more than the report shows (git-ignored).
  mkdirSync(join(ROOT, ".bench"), { recursive: true });
  writeFileSync(join(ROOT, ".bench", "results.json"), JSON.stringify({ context, ...result, env: undefined }, null, 1));
  writeDocs(result, context);
  if (result.summary.some((row) => row.errors > 0)) {
    console.error("some requests failed: see the errors column");
    process.exitCode = 1;
  }
}

/** The phases after the arms, each in processes of its own: attribution, scaling note, startup, WebSocket arm. */
async function runPhases(result, options, cpus, { bundles, src }) {
  if (options.attribution) {
    console.log("attribution: the KV session path with one piece off at a time (bench/attribute.mjs)");
    result.attribution = await attribute({ ...(options.quick ? { rounds: 1, seconds: 1, warmSeconds: 1 } : { rounds: 3, seconds: 5 }), src }, cpus);
    await stopAll();
  }
  if (options.scaling) {
    console.log("scaling: routes, headers, cookie size, sessions per user (bench/scaling.mjs)");
    result.scaling = await scaling(options.quick ? { rounds: 1, seconds: 1, quick: true } : { rounds: 3, seconds: 3 }, cpus);
  }
  if (options.startup) {
    console.log(`startup: ${options.startupSamples} fresh workerd processes and isolates per bundle (bench/startup.mjs)`);
    result.startup = await startup({ samples: options.startupSamples, cpus, bundles });
  }
  if (options.websocket) {
    console.log("websocket: bench/websocket.mjs");
    result.websocket = await websocketArm({ quick: options.quick });
    await stopAll();
  }
}

main().catch(async (error) => {
  console.error(error.stack ?? error.message);
  await stopAll();
  process.exit(1);
});
