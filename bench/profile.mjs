// A CPU profile of one Worker under load: workerd has no --cpu-prof, but it
// speaks the V8 inspector protocol, so this starts the bench's processes with
// the inspector on, loads the Worker with wrk (16 connections) and records a
// sampling profile of its isolate.
//
//   node bench/profile.mjs [what] [seconds]
//     what: gateKv (default), gateRedis, gateRotate, gateDurable, pass: the session path of that Worker;
//           dbsc: gateKv with device-bound sessions; login: gateKv, every request a login;
//           refreshKv, refreshDurable: DBSC refreshes (bench/dbsc.mjs) on gateKv / gateDurable
//
// Writes .bench/<worker>.cpuprofile (open it in Chrome DevTools → Performance,
// or any .cpuprofile viewer) and prints the functions with the most self time.
// The profile is of the isolate's JavaScript; "(program)" is workerd's own
// native work (HTTP, subrequests) seen from that thread.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import WebSocket from "ws";
import { bindSessions, refreshLoad } from "./dbsc.mjs";
import { CLIENT, WORK_DIR, buildBundle, login, startAll, stopAll } from "./harness.mjs";
import { runWrk } from "./wrk.mjs";

const INSPECTOR = "127.0.0.1:9239";

/**
 * Self time by the file of the bundle each sample's function came from: esbuild starts every
 * module with a `// src/<file>` (or `// node_modules/<file>`) line. Samples outside the bundle
 * (idle, program, garbage collector, the runtime's own functions) keep their names.
 */
function bySourceFile({ nodes, samples, timeDeltas }, bundle) {
  const starts = [];
  readFileSync(bundle, "utf8")
    .split("\n")
    .forEach((line, index) => {
      const marker = /^\/\/ ((?:src|node_modules)\/\S+)$/.exec(line);
      if (marker) starts.push({ line: index, file: marker[1].replace(/^node_modules\/((?:@[^/]+\/)?[^/]+).*$/, "$1") });
    });
  const fileAt = (line) => {
    let found = "(bundle prelude)";
    for (const start of starts) {
      if (start.line > line) break;
      found = start.file;
    }
    return found;
  };
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const totals = new Map();
  samples.forEach((sample, i) => {
    const { functionName, url, lineNumber } = byId.get(sample).callFrame;
    const where = url.endsWith("index.js") ? fileAt(lineNumber) : functionName || "(anonymous)";
    totals.set(where, (totals.get(where) ?? 0) + (timeDeltas[i] ?? 0));
  });
  return totals;
}
const what = process.argv[2] ?? "gateKv";
const seconds = Number(process.argv[3] ?? 5);
/** The Worker each `what` loads. */
const WORKER = { dbsc: "gateKv", login: "gateKv", refreshKv: "gateKv", refreshDurable: "gateDurable" };
const target = WORKER[what] ?? what;

process.env.BENCH_INSPECTOR = INSPECTOR;
const env = await startAll({ loadCpu: 0, serverCpu: 1, withRedis: target === "gateRedis", withPeer: false, withDurable: target === "gateDurable" });
try {
  const targets = await (await fetch(`http://${INSPECTOR}/json/list`)).json();
  const entry = targets.find((t) => t.id === target);
  if (!entry) throw new Error(`no Worker named ${target}; there are ${targets.map((t) => t.id).join(", ")}`);
  const ws = new WebSocket(entry.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  let id = 0;
  const pending = new Map();
  ws.on("message", (data) => {
    const message = JSON.parse(data);
    pending.get(message.id)?.(message);
    pending.delete(message.id);
  });
  const send = (method, params = {}) => new Promise((resolve) => (pending.set(++id, resolve), ws.send(JSON.stringify({ id, method, params }))));

  const perThread = target === "gateRotate" ? 32 : 1;
  const base = env.urls[target];
  let load;
  if (what.startsWith("refresh")) {
    const bound = await bindSessions(base, 16, { prefix: "profile", headers: CLIENT });
    load = async (s) => {
      const run = await refreshLoad(base, bound, CLIENT, s);
      return { requests: run.requests, rps: run.refreshes / s, errorCount: 0 };
    };
  } else {
    const bound =
      what === "dbsc" ? (await bindSessions(base, 16, { prefix: "profile", headers: CLIENT })).map((session) => session.cookie) : undefined;
    const cookies = bound ?? (target === "pass" || what === "login" ? [] : await login(base, 16 * perThread, { prefix: "profile" }));
    const path = what === "login" ? "/login" : "/app";
    load = (s) =>
      runWrk({
        url: `${base}${path}`,
        connections: 16,
        threads: 16,
        seconds: s,
        cpu: 0,
        headers: CLIENT,
        cookies,
        perThread,
        follow: target === "gateRotate",
        unique: what === "login",
      });
  }
  await load(2); // warm-up
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 100 });
  await send("Profiler.start");
  const wrk = await load(seconds);
  const { result } = await send("Profiler.stop");
  ws.close();

  const file = join(WORK_DIR, `${what}.cpuprofile`);
  writeFileSync(file, JSON.stringify(result.profile));
  const { nodes, samples, timeDeltas } = result.profile;
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const self = new Map();
  let total = 0;
  samples.forEach((sample, i) => {
    const { functionName, url, lineNumber } = byId.get(sample).callFrame;
    const key = `${functionName || "(anonymous)"}${url ? ` ${url.split("/").pop()}:${lineNumber + 1}` : ""}`;
    self.set(key, (self.get(key) ?? 0) + (timeDeltas[i] ?? 0));
    total += timeDeltas[i] ?? 0;
  });
  console.log(`${wrk.requests} requests (${wrk.rps.toFixed(0)}/s, ${wrk.errorCount} failed); ${file}`);
  console.log("self time, share of the samples:");
  for (const [key, time] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30))
    console.log(`${((time / total) * 100).toFixed(1).padStart(6)} %  ${key}`);
  console.log("self time by source file (the bundle's `// src/…` markers; native work stays with its caller):");
  const modules = bySourceFile(result.profile, buildBundle());
  const topFiles = [...modules].sort((a, b) => b[1] - a[1]).slice(0, 25);
  for (const [where, time] of topFiles) console.log(`${((time / total) * 100).toFixed(1).padStart(6)} %  ${where}`);
  // The by-file shares for docs/benchmarks.md ("What stands in the way"), which scripts/bench.mjs renders.
  const summary = {
    what,
    date: new Date().toISOString().slice(0, 10),
    requests: wrk.requests,
    rps: wrk.rps,
    byFile: topFiles.map(([where, time]) => [where, time / total]),
  };
  writeFileSync(join(WORK_DIR, `${what}.profile.json`), JSON.stringify(summary));
} finally {
  await stopAll();
}
