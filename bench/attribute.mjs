// Where does the gate's CPU go? workerd has no --cpu-prof, so this measures
// variants side by side: each is the gate built from a copy of src/ with one
// piece switched off (a source patch) or a different policy, run as its own
// Worker in one workerd process on the KV session path. Reports workerd CPU µs
// per request (/proc, 16 connections) for each, interleaved over rounds: the
// lowest of the rounds, since whatever else runs on the machine only ever adds.
//
//   node bench/attribute.mjs [--rounds 3] [--seconds 3] [--only a,b]
// (`npm run bench` runs it too, after the arms, for the report's "Where the CPU goes".)
//
// A patch whose text is no longer in src/ is reported and its variant skipped.
// Build output and copies live in .bench/attribute/ (git-ignored).
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { CLIENT, ROOT, WORK_DIR, benchPolicy, login, startAll, stopAll } from "./harness.mjs";
import { cpuMicros } from "./proc.mjs";
import { runWrk } from "./wrk.mjs";

const policy = (changes = {}) => {
  const base = benchPolicy();
  return { ...base, ...changes, session: { ...base.session, ...(changes.session ?? {}) } };
};

/** The variants: `patches` edit the copied src/ (exact text), `policy`/`timing` change the Worker's config. */
const VARIANTS = [
  { name: "baseline", what: "the gate as built from src/, as shipped (GATE_DEBUG_TIMING off, as in the bench)" },
  { name: "timing", what: "GATE_DEBUG_TIMING on (Server-Timing on every response)", timing: true },
  {
    name: "binding-off",
    what: 'session.binding = "off" (no User-Agent/IP fingerprint per request)',
    policy: policy({ session: { binding: "off" } }),
  },
  { name: "no-limiter", what: "no rate limiter (no RATE_LIMIT_DEFAULT call per request)", policy: { ...policy(), rate_limits: undefined } },
  {
    name: "no-assertion",
    what: "X-Gate-Assertion not signed (a constant instead of an Ed25519 JWT per request)",
    patches: [
      {
        file: "src/assertion/sign.ts",
        find: "return async function signAssertion(request: AssertedRequest, background?: Background): Promise<string> {",
        replace:
          'return async function signAssertion(request: AssertedRequest, background?: Background): Promise<string> {\n    if (globalThis) return "bench.no.assertion";',
      },
    ],
  },
  {
    name: "no-pointer-cache",
    what: "the KV store's in-isolate cache of token pointers off (the pointer read from KV on every request)",
    patches: [
      {
        file: "src/store/kv.ts",
        find: "return pointers.get(tokenHash) ?? (await kv.get(KEY.token(tokenHash)));",
        replace: "return await kv.get(KEY.token(tokenHash));",
      },
    ],
  },
  {
    name: "memory-store",
    what: "sessions in isolate memory instead of KV: no KV calls at all",
    patches: [
      {
        file: "src/store/select.ts",
        find: 'import { createKvStore } from "./kv";',
        replace: 'import { createKvStore } from "./kv";\nimport { createMemoryStore } from "./memory";',
      },
      { file: "src/store/select.ts", find: "return { store: createKvStore(store.namespace),", replace: "return { store: createMemoryStore()," },
    ],
  },
];

function parseArgs(argv) {
  const options = { rounds: 3, seconds: 3, only: undefined };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--rounds") options.rounds = Number(argv[++i]);
    else if (argv[i] === "--seconds") options.seconds = Number(argv[++i]);
    else if (argv[i] === "--only") options.only = argv[++i].split(",");
    else throw new Error(`unknown option ${argv[i]}`);
  }
  return options;
}

/** Copies src/ (and what it imports from the root), applies the patches, bundles as wrangler would. */
async function bundleVariant(variant, src = join(ROOT, "src")) {
  const dir = join(WORK_DIR, "attribute", variant.name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(src, join(dir, "src"), { recursive: true });
  for (const patch of variant.patches ?? []) {
    const path = join(dir, patch.file);
    const text = existsSync(path) ? readFileSync(path, "utf8") : "";
    if (!text.includes(patch.find)) return { skipped: `${patch.file} no longer contains ${JSON.stringify(patch.find.slice(0, 60))}` };
    writeFileSync(path, text.replace(patch.find, patch.replace));
  }
  const outfile = join(dir, "index.js");
  await build({
    entryPoints: [join(dir, "src", "index.ts")],
    outfile,
    bundle: true,
    format: "esm",
    target: "es2022",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    nodePaths: [join(ROOT, "node_modules")],
    // The runtime's own modules, as wrangler leaves them (the Durable Object class imports cloudflare:workers).
    external: ["cloudflare:*"],
    logLevel: "error",
  });
  return { bundle: outfile };
}

/**
 * A copy of src/ as it is now, for attribute({ src }): `npm run bench` takes it when it starts, so
 * that the variants are built from the same tree as the arms were.
 */
export function snapshotSrc() {
  const dir = join(WORK_DIR, "attribute", "src-snapshot");
  rmSync(dir, { recursive: true, force: true });
  cpSync(join(ROOT, "src"), dir, { recursive: true });
  return dir;
}

/** Measures every variant; returns { skipped, rows: [{ variant, cpu, rps }] } (best of the rounds), the pass-through Worker first. */
export async function attribute(options, cpus = { load: 0, server: 1 }) {
  const variants = VARIANTS.filter((v) => !options.only || options.only.includes(v.name) || v.name === "baseline");
  const gates = [];
  const skipped = [];
  for (const variant of variants) {
    const built = await bundleVariant(variant, options.src);
    if (built.skipped) {
      skipped.push(`${variant.name}: ${built.skipped}`);
      continue;
    }
    gates.push({
      name: `v${variant.name.replace(/(^|-)(\w)/g, (_, __, ch) => ch.toUpperCase())}`,
      variant,
      store: "kv",
      policy: variant.policy ?? benchPolicy(),
      timing: variant.timing ?? false,
      bundle: built.bundle,
    });
  }
  const env = await startAll({ loadCpu: cpus.load, serverCpu: cpus.server, withRedis: false, withPeer: false, gates });
  const cookies = new Map();
  for (const gate of gates) cookies.set(gate.name, await login(env.urls[gate.name], 16, { prefix: gate.name }));
  // The floor, for reference: the pass-through Worker in the same process.
  gates.unshift({ name: "pass", variant: { name: "pass-through", what: "the pass-through Worker, for reference" } });
  cookies.set("pass", []);
  const results = new Map(gates.map((gate) => [gate.name, []]));
  const run = async (gate, seconds) => {
    const before = cpuMicros(env.workerd.pid);
    const wrk = await runWrk({
      url: `${env.urls[gate.name]}/app`,
      connections: 16,
      threads: 16,
      seconds,
      cpu: cpus.load,
      headers: CLIENT,
      cookies: cookies.get(gate.name),
    });
    // A variant that breaks requests is not measuring what it claims; a stray socket error is not that.
    if (wrk.errorCount > wrk.requests / 1000)
      throw new Error(`${gate.variant.name}: ${wrk.errorCount} failed requests ${JSON.stringify(wrk.errors)}`);
    if (wrk.errorCount) console.warn(`${gate.variant.name}: ${wrk.errorCount} failed of ${wrk.requests} ${JSON.stringify(wrk.errors)}`);
    return { cpu: (cpuMicros(env.workerd.pid) - before) / wrk.requests, rps: wrk.rps };
  };
  for (const gate of gates) await run(gate, options.warmSeconds ?? 2); // warm-up: JIT, and the heap past its first growth
  for (let round = 0; round < options.rounds; round++) {
    for (const gate of round % 2 ? [...gates].reverse() : gates) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      results.get(gate.name).push(await run(gate, options.seconds));
    }
  }
  await stopAll();
  const lowest = (values) => Math.min(...values);
  return {
    rounds: options.rounds,
    seconds: options.seconds,
    skipped,
    rows: gates.map((gate) => ({
      variant: gate.variant,
      cpu: lowest(results.get(gate.name).map((r) => r.cpu)),
      rps: Math.max(...results.get(gate.name).map((r) => r.rps)),
    })),
  };
}

/**
 * Each variant against the baseline in the full run of 2026-11-22, when issue 17 was filed (its
 * baseline then: 375 µs with GATE_DEBUG_TIMING on, so turning timing on was then "no-timing" off, −3 µs).
 */
const AT_ISSUE_17 = {
  "pass-through": "−288",
  timing: "+3",
  "binding-off": "−41",
  "no-limiter": "−44",
  "no-assertion": "−40",
  "no-pointer-cache": "+110",
  "memory-store": "−70",
};

/** The attribution as a Markdown table: each variant against the baseline, today and when issue 17 was filed. */
export function attributionTable({ rows }) {
  const base = rows.find((row) => row.variant.name === "baseline")?.cpu;
  const lines = ["| variant | workerd CPU µs/req | vs baseline | vs baseline at issue 17 | what |", "| --- | ---: | ---: | ---: | --- |"];
  for (const row of rows) {
    const name = row.variant.name;
    const delta = name === "baseline" ? "" : `${row.cpu - base > 0 ? "+" : "−"}${Math.abs(row.cpu - base).toFixed(0)}`;
    const then = name === "baseline" ? "375" : (AT_ISSUE_17[name] ?? "–");
    lines.push(`| ${name} | ${row.cpu.toFixed(0)} | ${delta} | ${then} | ${row.variant.what} |`);
  }
  return lines.join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  attribute(parseArgs(process.argv.slice(2)))
    .then((result) => {
      for (const line of result.skipped) console.log(`skipped ${line}`);
      console.log(`\n${attributionTable(result)}`);
    })
    .catch(async (error) => {
      console.error(error.stack ?? error.message);
      await stopAll();
      process.exit(1);
    });
}
