// The WebSocket arm: messages per second and CPU per message through the gate,
// against a pass-through Worker and a direct connection, under `workerd serve`
// (bench/workerd.mjs; no wrangler or miniflare in the path). Node's `ws` is the
// client and the origin (an echo server on every path, plus /login as
// bench/origin.mjs has it); workerd gets one CPU, the client and the origin the other.
//
//   node bench/websocket.mjs                  3 rounds, every arm interleaved: ~1 minute
//   node bench/websocket.mjs --quick          1 round, fewer messages (harness check)
//   options: --rounds N  --messages N (pipelined, per run)  --round-trips N (sequential)
//            --size BYTES (message size, default 64)  --window N (messages in flight, default 256)
//            --json (print the results as JSON only)  --load-cpu N --server-cpu N (default 0 and 1)
//            --bundle PATH (the gate's bundle, already built by `wrangler deploy --dry-run`)
//
// Arms: direct (client → origin), pass (the pass-through Worker: `return fetch(request)`,
// workerd pumps the two sockets natively), gate (a session's socket on KV; the
// terminating relay in src/proxy/websocket*.ts, recheck 60 s), gate-recheck-1s (the same
// with the shortest recheck). CPU is workerd's (user + system, /proc), per message relayed:
// each echo is two messages, client → origin and back.
// Writes .bench/websocket/results.json. Run as `node bench/websocket.mjs --origin` it is the origin.
import { spawn, spawnSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parse as parseToml } from "smol-toml";
import WebSocket, { WebSocketServer } from "ws";
import { CLIENT, ROOT, benchPolicy, login, track } from "./harness.mjs";
import { cpuMicros, machine } from "./proc.mjs";
import { startWorkerd, writeWorkerdConfig } from "./workerd.mjs";
import { freePort } from "../test/redis/redis-server.mjs";

const DIR = join(ROOT, ".bench", "websocket");
const SELF = fileURLToPath(import.meta.url);

/** The origin: `GET /login?sub=` answers X-Gate-Login (HS256, BENCH_ORIGIN_SECRET), every upgrade is an echo. */
function runOrigin() {
  const secret = process.env.BENCH_ORIGIN_SECRET ?? "";
  const b64 = (value) => Buffer.from(value).toString("base64url");
  let identified = 0;
  const server = createServer((req, res) => {
    if (req.url === "/__identified") return res.end(String(identified));
    if (req.url.startsWith("/login")) {
      const iat = Math.floor(Date.now() / 1000);
      const sub = new URL(req.url, "http://origin").searchParams.get("sub") ?? "bench-user";
      const unsigned = `${b64(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${b64(JSON.stringify({ sub, roles: ["user"], iat, exp: iat + 60 }))}`;
      const jwt = `${unsigned}.${createHmac("sha256", secret).update(unsigned).digest("base64url")}`;
      return res.writeHead(200, { "x-gate-login": jwt, "content-length": 0 }).end();
    }
    res.writeHead(200, { "content-type": "text/plain", "content-length": 3 }).end("ok\n");
  });
  const sockets = new WebSocketServer({ server, perMessageDeflate: false });
  sockets.on("connection", (ws, req) => {
    if (req.headers["x-gate-user"]) identified++;
    ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  server.listen(0, "127.0.0.1", () => console.log(`ready ${server.address().port}`));
  process.stdin.on("end", () => process.exit(0)).resume();
}

function parseArgs(argv) {
  const options = { rounds: 3, messages: 50_000, roundTrips: 3_000, size: 64, window: 256, json: false, loadCpu: 0, serverCpu: 1, bundle: undefined };
  for (let i = 0; i < argv.length; i++) {
    const value = () => Number(argv[++i]);
    const arg = argv[i];
    if (arg === "--quick") Object.assign(options, { rounds: 1, messages: 10_000, roundTrips: 1_000 });
    else if (arg === "--rounds") options.rounds = value();
    else if (arg === "--messages") options.messages = value();
    else if (arg === "--round-trips") options.roundTrips = value();
    else if (arg === "--size") options.size = value();
    else if (arg === "--window") options.window = value();
    else if (arg === "--json") options.json = true;
    else if (arg === "--load-cpu") options.loadCpu = value();
    else if (arg === "--server-cpu") options.serverCpu = value();
    else if (arg === "--bundle") options.bundle = argv[++i];
    else throw new Error(`unknown option ${arg}`);
  }
  return options;
}

/** The gate's bundle as `wrangler deploy` would upload it, built into our own directory (the main bench uses .bench/build). */
function buildBundle() {
  const outdir = join(DIR, "build");
  const env = {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_SEND_ERROR_REPORTS: "false",
    WRANGLER_HIDE_BANNER: "true",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
  };
  const result = spawnSync(join(ROOT, "node_modules", ".bin", "wrangler"), ["deploy", "--dry-run", "--outdir", outdir], {
    cwd: ROOT,
    encoding: "utf8",
    env,
  });
  if (result.status !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${result.stdout}\n${result.stderr}`);
  return join(outdir, "index.js");
}

/** Starts the origin on `cpu` and resolves with its port. */
async function startOrigin(cpu, secret) {
  const child = track(
    spawn("taskset", ["-c", String(cpu), process.execPath, SELF, "--origin"], {
      env: { ...process.env, BENCH_ORIGIN_SECRET: secret },
      stdio: ["pipe", "pipe", "inherit"],
    }),
  );
  const port = await new Promise((resolve, reject) => {
    child.stdout.on("data", (chunk) => {
      const match = /ready (\d+)/.exec(String(chunk));
      if (match) resolve(Number(match[1]));
    });
    child.once("exit", (code) => reject(new Error(`the origin exited (${code})`)));
  });
  return { child, port };
}

/** Starts workerd with the pass-through Worker and two gates (recheck 60 s and 1 s) on `cpu`. */
async function startWorkers(cpu, originUrl, secret, bundle) {
  const compatibilityDate = parseToml(readFileSync(join(ROOT, "wrangler.toml"), "utf8")).compatibility_date;
  const policy = (recheck) => ({ ...benchPolicy(), websocket: { recheck } });
  const gates = [
    { name: "gate", store: "kv", policy: policy("60s"), port: await freePort() },
    { name: "gateRecheck", store: "kv", policy: policy("1s"), port: await freePort() },
  ];
  const ports = { pass: await freePort(), kv: await freePort() };
  const config = writeWorkerdConfig({
    dir: join(DIR, "run"),
    bundle: bundle ?? buildBundle(),
    compatibilityDate,
    originUrl,
    secrets: { gate: randomBytes(32).toString("base64url"), origin: secret },
    pass: { port: ports.pass },
    kv: { port: ports.kv, inProcess: true },
    gates,
  });
  const workerd = track(await startWorkerd({ config, cpu, ports: [ports.pass, ports.kv, ...gates.map((gate) => gate.port)] }));
  return {
    workerd,
    compatibilityDate,
    urls: { pass: `http://127.0.0.1:${ports.pass}`, ...Object.fromEntries(gates.map((g) => [g.name, `http://127.0.0.1:${g.port}`])) },
  };
}

/** Opens a client socket to `url` (http → ws), with `cookie` if given, as a page of that origin would (the gate checks `Origin`). */
function open(url, cookie) {
  const headers = { ...CLIENT, ...(cookie ? { cookie } : {}) };
  const ws = new WebSocket(url.replace(/^http/, "ws"), { headers, origin: new URL(url).origin, perMessageDeflate: false });
  ws.binaryType = "nodebuffer";
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve(ws));
    ws.once("unexpected-response", (_req, res) => reject(new Error(`${url}: handshake answered ${res.statusCode}`)));
    ws.once("error", reject);
  });
}

/** `count` messages of `payload`, at most `window` unanswered: resolves with the elapsed ms once every echo came back. */
function pipelined(ws, payload, count, window) {
  return new Promise((resolve) => {
    let sent = 0;
    let received = 0;
    const start = performance.now();
    const pump = () => {
      while (sent < count && sent - received < window) {
        ws.send(payload);
        sent++;
      }
    };
    const onMessage = () => {
      if (++received === count) {
        ws.off("message", onMessage);
        resolve(performance.now() - start);
      } else pump();
    };
    ws.on("message", onMessage);
    pump();
  });
}

/** `count` round trips one after another: resolves with each one's ms. */
async function sequential(ws, payload, count) {
  const times = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await new Promise((resolve) => {
      ws.once("message", resolve);
      ws.send(payload);
    });
    times.push(performance.now() - start);
  }
  return times;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const percentile = (values, p) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))];

/** One run of one arm on a fresh socket: pipelined throughput, then sequential latency, with workerd's CPU around each. */
async function measure(arm, options, workerdPid) {
  const ws = await open(arm.url, arm.cookie);
  const payload = randomBytes(options.size);
  await pipelined(ws, payload, 500, options.window); // warm-up
  const cpu0 = workerdPid ? cpuMicros(workerdPid) : 0;
  const ms = await pipelined(ws, payload, options.messages, options.window);
  const cpu1 = workerdPid ? cpuMicros(workerdPid) : 0;
  const times = await sequential(ws, payload, options.roundTrips);
  const cpu2 = workerdPid ? cpuMicros(workerdPid) : 0;
  ws.close(1000, "done");
  return {
    echoesPerSecond: (options.messages * 1000) / ms,
    cpuPerMessageUs: workerdPid ? (cpu1 - cpu0) / (2 * options.messages) : null,
    cpuPerRoundTripMessageUs: workerdPid ? (cpu2 - cpu1) / (2 * options.roundTrips) : null,
    p50Ms: median(times),
    p99Ms: percentile(times, 0.99),
  };
}

async function main() {
  if (process.argv[2] === "--origin") return runOrigin();
  const options = parseArgs(process.argv.slice(2));
  if (availableParallelism() < 2) throw new Error("needs at least 2 CPUs: workerd gets one, the client and the origin the other");
  const cpus = { load: options.loadCpu, server: options.serverCpu };
  spawnSync("taskset", ["-cp", String(cpus.load), String(process.pid)], { stdio: "ignore" }); // the client shares the load CPU
  const secret = randomBytes(32).toString("base64url");
  const origin = await startOrigin(cpus.load, secret);
  const originUrl = `http://127.0.0.1:${origin.port}`;
  const { workerd, compatibilityDate, urls } = await startWorkers(cpus.server, originUrl, secret, options.bundle);
  const [gateCookie] = await login(urls.gate, 1, { prefix: "ws" });
  const [recheckCookie] = await login(urls.gateRecheck, 1, { prefix: "ws-recheck" });
  const arms = [
    { id: "direct", label: "direct to the origin", url: `${originUrl}/echo` },
    { id: "pass", label: "pass-through Worker", url: `${urls.pass}/echo`, workerd: true },
    { id: "gate", label: "gate, session on KV (recheck 60 s)", url: `${urls.gate}/echo`, cookie: gateCookie, workerd: true },
    { id: "gate-recheck-1s", label: "gate, session on KV, recheck 1 s", url: `${urls.gateRecheck}/echo`, cookie: recheckCookie, workerd: true },
  ];
  const before = Number(await (await fetch(`${originUrl}/__identified`)).text());
  const runs = Object.fromEntries(arms.map((arm) => [arm.id, []]));
  for (let round = 0; round < options.rounds; round++) {
    for (const arm of round % 2 ? [...arms].reverse() : arms) runs[arm.id].push(await measure(arm, options, arm.workerd ? workerd.pid : undefined));
  }
  const identified = Number(await (await fetch(`${originUrl}/__identified`)).text()) - before;
  // Each gate socket carried its session's identity to the origin: otherwise the arm measured nothing.
  if (identified !== 2 * options.rounds) throw new Error(`the origin saw ${identified} gate sockets with identity, not ${2 * options.rounds}`);
  const summary = arms.map((arm) => {
    const of = (key) => (runs[arm.id][0][key] === null ? null : median(runs[arm.id].map((run) => run[key])));
    return {
      id: arm.id,
      label: arm.label,
      echoesPerSecond: of("echoesPerSecond"),
      cpuPerMessageUs: of("cpuPerMessageUs"),
      cpuPerRoundTripMessageUs: of("cpuPerRoundTripMessageUs"),
      p50Ms: of("p50Ms"),
      p99Ms: of("p99Ms"),
    };
  });
  const result = { date: new Date().toISOString(), machine: machine(), compatibilityDate, options, summary, runs };
  mkdirSync(DIR, { recursive: true });
  writeFileSync(join(DIR, "results.json"), `${JSON.stringify(result, null, 2)}\n`);
  if (options.json) return console.log(JSON.stringify(result, null, 2));
  console.log(render(result));
}

/** The results as a Markdown table (for docs/benchmarks.md or docs/websockets.md). */
export function render({ summary, options, machine: host, compatibilityDate }) {
  const pass = summary.find((row) => row.id === "pass");
  const fmt = (value, digits = 0) =>
    value === null ? "—" : value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const rows = summary.map(
    (row) =>
      `| ${row.label} | ${fmt(row.echoesPerSecond)} | ${fmt(row.echoesPerSecond / pass.echoesPerSecond, 2)}× | ${fmt(row.cpuPerMessageUs, 1)} | ${fmt(row.cpuPerRoundTripMessageUs, 1)} | ${fmt(row.p50Ms, 3)} | ${fmt(row.p99Ms, 3)} |`,
  );
  return [
    `${options.rounds} round(s), ${options.messages.toLocaleString("en-US")} pipelined echoes (window ${options.window}) and ${options.roundTrips.toLocaleString("en-US")} sequential round trips of ${options.size}-byte binary messages per run; medians. workerd compat ${compatibilityDate}, ${host.model}, load ${host.load}.`,
    "",
    "| path | echoes/s (pipelined) | vs pass-through | workerd CPU µs/message (pipelined) | µs/message (one at a time) | round trip p50 ms | p99 ms |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
  ].join("\n");
}

// Run, not imported: scripts/bench.mjs may import render() alone.
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().then(
    () => process.argv[2] !== "--origin" && process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
