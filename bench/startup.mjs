#!/usr/bin/env node
// The Worker's startup cost, today's bundle against the bundle of the tree
// before the Upstash code was loaded lazily (BEFORE_COMMIT) and against today's
// tree with that one import made eager again (eagerBundle), beside the
// pass-through Worker. `wrangler check startup` profiles at ~1 ms and mostly
// sees idle time, so this measures in two other ways, interleaved, and reports
// medians with their quartiles:
//   workerd   fresh `workerd serve` processes pinned to the Worker's CPU, one per
//             sample: from spawn until its socket accepts a connection (workerd
//             compiles and evaluates every Worker before it listens), then the
//             first request (a login: the gate builds itself from its config) and
//             the second (the first session request: the first signed assertion),
//             timed from Node on the other CPU. A pass-through-only process is the
//             reference; the difference is the gate's.
//   isolate   fresh V8 isolates (Node worker threads): import() of the bundle, i.e.
//             parse, compile and evaluation of its top level, at microsecond
//             resolution (Node's V8, not workerd's).
// Both bundles are built the way `wrangler deploy --dry-run` builds them; the
// older tree comes from a temporary `git worktree`, removed afterwards, and its
// bundle is kept in .bench/startup/<commit>/.
//
//   node bench/startup.mjs [--samples 20]
//   node bench/startup.mjs <file.cpuprofile>   summarise a `wrangler check startup` profile
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { CLIENT, ROOT, WORK_DIR, benchPolicy, buildBundle, startOrigin, stopAll, track } from "./harness.mjs";
import { freePort } from "../test/redis/redis-server.mjs";
import { WORKERD_BIN, writeWorkerdConfig } from "./workerd.mjs";

/** The last commit whose src/store/select.ts imported @upstash/redis at the top (2133099 made it lazy). */
export const BEFORE_COMMIT = "bb1a97f";

const DIR = join(WORK_DIR, "startup");
const STUB = "data:text/javascript,export class DurableObject{constructor(ctx,env){this.ctx=ctx;this.env=env}}export class WorkerEntrypoint{}";

/** The bundle of `commit`, built once in a temporary worktree (with this tree's node_modules: the dependencies are the same versions). */
export function bundleAt(commit) {
  const outdir = join(DIR, commit);
  const bundle = join(outdir, "index.js");
  if (existsSync(bundle)) return bundle;
  const worktree = join(DIR, `worktree-${process.pid}`);
  const git = (...args) => {
    const result = spawnSync("git", args, { cwd: ROOT, encoding: "utf8" });
    if (result.status !== 0) throw new Error(`git ${args.join(" ")}: ${result.stderr}`);
  };
  rmSync(worktree, { recursive: true, force: true });
  git("worktree", "prune"); // one left by a run that was killed
  git("worktree", "add", "--detach", worktree, commit);
  try {
    symlinkSync(join(ROOT, "node_modules"), join(worktree, "node_modules"));
    buildBundle({ cwd: worktree, outdir });
  } finally {
    git("worktree", "remove", "--force", worktree);
  }
  return bundle;
}

/** The line of src/store/select.ts that loads the Redis backends only in Redis mode, and what makes it eager again. */
const LAZY = 'const { redisBackends } = await import("./select-redis");';
const EAGER_IMPORT = 'import { redisBackends } from "./select-redis";\n';

/**
 * Today's tree with the Redis backends (@upstash/redis, @upstash/ratelimit) imported at the top again,
 * built as wrangler builds it: what the lazy import saves, and nothing else. `undefined` when
 * src/store/select.ts no longer has the lazy import.
 */
export function eagerBundle() {
  const dir = join(DIR, "eager");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(join(ROOT, "src"), join(dir, "src"), { recursive: true });
  for (const file of ["wrangler.toml", "tsconfig.json"]) if (existsSync(join(ROOT, file))) cpSync(join(ROOT, file), join(dir, file));
  const select = join(dir, "src", "store", "select.ts");
  const text = readFileSync(select, "utf8");
  if (!text.includes(LAZY)) return undefined;
  writeFileSync(select, EAGER_IMPORT + text.replace(LAZY, ""));
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  return buildBundle({ cwd: dir, outdir: join(dir, "build") });
}

/**
 * The three gate bundles, built from the tree as it is now: `npm run bench` builds them when it
 * starts, so that today's and the eager one come from the same `src/` as every other phase.
 */
export function startupBundles() {
  mkdirSync(DIR, { recursive: true });
  return { today: buildBundle(), eager: eagerBundle(), before: bundleAt(BEFORE_COMMIT) };
}

/** A copy of a bundle Node can import: `cloudflare:workers` replaced by a stub module. */
function importable(bundle, name) {
  const copy = join(DIR, `${name}.node.mjs`);
  writeFileSync(copy, readFileSync(bundle, "utf8").replaceAll('"cloudflare:workers"', JSON.stringify(STUB)));
  return pathToFileURL(copy).href;
}

const quartiles = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { median: at(0.5), p25: at(0.25), p75: at(0.75), n: sorted.length };
};

/** Resolves once 127.0.0.1:`port` accepts a connection, trying every millisecond. */
function listening(port, child, deadline = Date.now() + 30_000) {
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null || Date.now() > deadline) return reject(new Error(`workerd did not listen on ${port}`));
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve();
      });
      socket.once("error", () => {
        socket.destroy();
        setTimeout(attempt, 1);
      });
    };
    attempt();
  });
}

async function timedFetch(url, cookie) {
  const started = performance.now();
  const response = await fetch(url, { headers: { ...CLIENT, ...(cookie ? { cookie } : {}) } });
  await response.arrayBuffer();
  const cookies = response.headers.getSetCookie().map((value) => value.split(";")[0]);
  return { ms: performance.now() - started, status: response.status, cookie: cookies.find((pair) => pair.startsWith("__Host-session=")) };
}

function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill("SIGKILL"), 2_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** One fresh workerd process with the variant's Worker: spawn → listening, first request, second request (ms). */
async function workerdSample(variant, context) {
  const ports = { pass: await freePort(), kv: await freePort(), gate: await freePort() };
  const gates = variant.bundle ? [{ name: "gate", port: ports.gate, store: "kv", policy: benchPolicy(), timing: false, bundle: variant.bundle }] : [];
  const config = writeWorkerdConfig({
    ...context,
    dir: join(DIR, `run-${variant.name}`),
    bundle: variant.bundle,
    pass: { port: ports.pass },
    kv: { port: ports.kv, inProcess: true },
    gates,
    objects: { disk: DIR },
  });
  const port = variant.bundle ? ports.gate : ports.pass;
  const started = performance.now();
  const child = track(spawn("taskset", ["-c", String(context.cpu), WORKERD_BIN, "serve", config], { stdio: ["ignore", "ignore", "pipe"] }));
  try {
    await listening(port, child);
    const listen = performance.now() - started;
    const first = await timedFetch(`http://127.0.0.1:${port}/login?sub=startup-${randomBytes(4).toString("hex")}`);
    const second = await timedFetch(`http://127.0.0.1:${port}/app`, first.cookie);
    if (first.status !== 200 || second.status !== 200) throw new Error(`startup ${variant.name}: ${first.status}, ${second.status}`);
    if (variant.bundle && !first.cookie) throw new Error(`startup ${variant.name}: the login set no session cookie`);
    return { listen, first: first.ms, second: second.ms };
  } finally {
    await stop(child);
  }
}

/** One fresh isolate importing the variant's bundle: ms to parse, compile and evaluate it. */
function isolateSample(url) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./startup-isolate.mjs", import.meta.url), { workerData: { url } });
    worker.once("message", (message) => {
      worker.terminate().then(() => resolve(message.evaluate));
    });
    worker.once("error", reject);
  });
}

/**
 * Measures every variant `samples` times, interleaved. Returns, per variant
 * (today, eager, before, pass), the quartiles of each phase, and the bundles' sizes.
 */
export async function startup({ samples = 20, cpus = { load: 0, server: 1 }, bundles = startupBundles() } = {}) {
  const { today, eager, before } = bundles;
  const pass = join(ROOT, "bench", "workers", "passthrough.js");
  const variants = [
    { name: "today", bundle: today, url: importable(today, "today") },
    ...(eager ? [{ name: "eager", bundle: eager, url: importable(eager, "eager") }] : []),
    { name: "before", bundle: before, url: importable(before, "before") },
    { name: "pass", bundle: undefined, url: pathToFileURL(pass).href },
  ];
  const secret = randomBytes(32).toString("base64url");
  const origin = await startOrigin(cpus.load, secret);
  const wrangler = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  const context = {
    cpu: cpus.server,
    compatibilityDate: /^compatibility_date\s*=\s*"([^"]+)"/m.exec(wrangler)[1],
    originUrl: origin.url,
    secrets: { gate: randomBytes(32).toString("base64url"), origin: secret },
  };
  const raw = Object.fromEntries(variants.map((v) => [v.name, { listen: [], first: [], second: [], evaluate: [] }]));
  try {
    for (const variant of variants) await workerdSample(variant, context); // the page cache and the binary warm
    for (let i = 0; i < samples; i++) {
      for (const variant of i % 2 ? [...variants].reverse() : variants) {
        const sample = await workerdSample(variant, context);
        for (const key of ["listen", "first", "second"]) raw[variant.name][key].push(sample[key]);
        raw[variant.name].evaluate.push(await isolateSample(variant.url));
      }
    }
  } finally {
    await stopAll();
  }
  const phases = Object.fromEntries(
    variants.map((v) => [v.name, Object.fromEntries(Object.entries(raw[v.name]).map(([key, values]) => [key, quartiles(values)]))]),
  );
  const sizes = Object.fromEntries(variants.filter((v) => v.bundle).map((v) => [v.name, statSync(v.bundle).size]));
  return { samples, commit: BEFORE_COMMIT, phases, sizes, raw };
}

/** `wrangler check startup`'s profile, summarised: the total sampled time and the self time by package or file. */
function summariseProfile(file) {
  const profile = JSON.parse(readFileSync(file, "utf8"));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  const deltas = profile.timeDeltas ?? [];
  profile.samples.forEach((id, index) => {
    const url = byId.get(id)?.callFrame?.url ?? "";
    const where =
      /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ??
      (url ? url.replace(/^.*\/(src|dist)\//, "$1/") : `(${byId.get(id)?.callFrame?.functionName || "program"})`);
    self.set(where, (self.get(where) ?? 0) + (deltas[index] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  console.log(`total sampled: ${(total / 1000).toFixed(1)} ms`);
  for (const [where, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${(us / 1000).toFixed(1).padStart(7)} ms  ${where}`);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  if (args[0]?.endsWith(".cpuprofile")) summariseProfile(args[0]);
  else {
    const samples = args.includes("--samples") ? Number(args[args.indexOf("--samples") + 1]) : 20;
    startup({ samples })
      .then((result) => {
        for (const [name, phase] of Object.entries(result.phases)) {
          console.log(
            name.padEnd(7),
            Object.entries(phase)
              .map(([key, q]) => `${key} ${q.median.toFixed(2)} ms [${q.p25.toFixed(2)}–${q.p75.toFixed(2)}]`)
              .join("  "),
          );
        }
      })
      .catch(async (error) => {
        console.error(error.stack ?? error.message);
        await stopAll();
        process.exit(1);
      });
  }
}
