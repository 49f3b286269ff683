// A CPU profile of one Worker under load: workerd has no --cpu-prof, but it
// speaks the V8 inspector protocol, so this starts the bench's processes with
// the inspector on, loads the Worker with wrk (16 connections) and records a
// sampling profile of its isolate.
//
//   node bench/profile.mjs [gateKv|gateRedis|gateRotate|pass] [seconds]
//
// Writes .bench/<worker>.cpuprofile (open it in Chrome DevTools → Performance,
// or any .cpuprofile viewer) and prints the functions with the most self time.
// The profile is of the isolate's JavaScript; "(program)" is workerd's own
// native work (HTTP, subrequests) seen from that thread.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import WebSocket from "ws";
import { CLIENT, WORK_DIR, login, startAll, stopAll } from "./harness.mjs";
import { runWrk } from "./wrk.mjs";

const INSPECTOR = "127.0.0.1:9239";
const target = process.argv[2] ?? "gateKv";
const seconds = Number(process.argv[3] ?? 5);

process.env.BENCH_INSPECTOR = INSPECTOR;
const env = await startAll({ loadCpu: 0, serverCpu: 1, withRedis: target === "gateRedis", withPeer: false });
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
  const cookies = target === "pass" ? [] : await login(env.urls[target], 16 * perThread, { prefix: "profile" });
  const load = (s) => runWrk({ url: `${env.urls[target]}/app`, connections: 16, threads: 16, seconds: s, cpu: 0, headers: CLIENT, cookies, perThread, follow: target === "gateRotate" });
  await load(2); // warm-up
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 100 });
  await send("Profiler.start");
  const wrk = await load(seconds);
  const { result } = await send("Profiler.stop");
  ws.close();

  const file = join(WORK_DIR, `${target}.cpuprofile`);
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
  for (const [key, time] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${((time / total) * 100).toFixed(1).padStart(6)} %  ${key}`);
} finally {
  await stopAll();
}
