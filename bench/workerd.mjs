// Runs Workers under `workerd serve` with a generated config: no wrangler, no
// miniflare in the request path. One workerd process holds every Worker of the
// benchmark, each on its own loopback socket:
//   pass        the bare pass-through Worker (bench/workers/passthrough.js)
//   <gate ...>  the gate's bundle (wrangler deploy --dry-run) with a given policy and store
//   kv          the KV namespace behind every gate's `SESSIONS` binding:
//               bench/workers/kv.js, in memory; its socket serves its call counters
// or, with writeKvConfig, the KV namespace runs in a workerd process of its own.
// Rate limiting bindings are "wrapped" bindings over bench/workers/ratelimit.js.
// A gate with store "durable" gets its own namespace of the bundle's Durable
// Object class `GatehouseSessions` (SQLite-backed, as wrangler.toml's
// `new_sqlite_classes` makes it), stored in a local directory as `wrangler dev`
// does (workerd's in-memory storage has no SQL API). A gate with `entry` runs that module in front of the bundle
// (bench/workers/count-objects.js counts the gate's calls to its objects).
// Outbound traffic may only reach loopback addresses (network allow = ["local"]).
import { spawn } from "node:child_process";
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = fileURLToPath(new URL(".", import.meta.url));
export const WORKERD_BIN = fileURLToPath(new URL("../node_modules/workerd/bin/workerd", import.meta.url));

/** A Cap'n Proto text literal (our values are printable ASCII; JSON's escapes for `"` and `\` are capnp's too). */
const str = (value) => {
  const text = String(value);
  if (!/^[\x20-\x7e]*$/.test(text)) throw new Error(`not printable ASCII: ${text}`);
  return JSON.stringify(text);
};

const embed = (dir, path) => `embed ${str(relative(dir, path))}`;

/** The bindings of one gate Worker, as wrangler would give them. */
function gateBindings(gate, common) {
  const bindings = [
    `(name = "ORIGIN_URL", text = ${str(common.originUrl)})`,
    `(name = "SESSION_STORE", text = ${str(gate.store)})`,
    `(name = "GATE", json = ${str(JSON.stringify(gate.policy))})`,
    `(name = "GATE_SECRET", text = ${str(common.secrets.gate)})`,
    `(name = "GATE_ORIGIN_SECRET", text = ${str(common.secrets.origin)})`,
  ];
  if (gate.timing) bindings.push(`(name = "GATE_DEBUG_TIMING", text = "1")`);
  if (gate.store === "kv") {
    bindings.push(`(name = "SESSIONS", kvNamespace = "kv")`);
    for (const [name, limiter] of Object.entries(gate.policy.rate_limits ?? {})) {
      const period = limiter.period === "10s" ? 10 : 60;
      bindings.push(
        `(name = ${str(`RATE_LIMIT_${name.toUpperCase()}`)}, wrapped = (moduleName = "bench:ratelimit", innerBindings = [` +
          `(name = "limit", json = ${str(String(limiter.limit))}), (name = "period", json = ${str(String(period))})]))`,
      );
    }
  } else if (gate.store === "durable") {
    // The store and the limiters both live in the namespace (src/store/select.ts): no RATE_LIMIT_* bindings.
    bindings.push(`(name = "SESSION_OBJECTS", durableObjectNamespace = (className = "GatehouseSessions"))`);
  } else {
    bindings.push(`(name = "UPSTASH_REDIS_REST_URL", text = ${str(common.redis.url)})`);
    bindings.push(`(name = "UPSTASH_REDIS_REST_TOKEN", text = ${str(common.redis.token)})`);
  }
  return bindings;
}

/** Writes `<dir>/kv.capnp`: the in-memory KV namespace alone, on 127.0.0.1:`port`. */
export function writeKvConfig({ dir, compatibilityDate, port }) {
  mkdirSync(dir, { recursive: true });
  const text = [
    `using Workerd = import "/workerd/workerd.capnp";`,
    ``,
    `const config :Workerd.Config = (`,
    `  services = [(name = "kv", worker = (`,
    `    modules = [(name = "kv.js", esModule = ${embed(dir, join(HERE, "workers", "kv.js"))})],`,
    `    compatibilityDate = ${str(compatibilityDate)}`,
    `  ))],`,
    `  sockets = [(name = "kv", address = ${str(`127.0.0.1:${port}`)}, http = (), service = "kv")]`,
    `);`,
    ``,
  ].join("\n");
  const path = join(dir, "kv.capnp");
  writeFileSync(path, text);
  return path;
}

/** The modules of a gate Worker: the bundle, or `entry` as the main module with the bundle beside it as "./index.js". */
function gateModules(dir, gate, bundle) {
  const index = `(name = "index.js", esModule = ${embed(dir, gate.bundle ?? bundle)})`;
  return gate.entry ? `modules = [(name = "entry.js", esModule = ${embed(dir, gate.entry)}), ${index}]` : `modules = [${index}]`;
}

/** What a durable gate adds to its Worker: the class as a SQLite-backed namespace, and where its objects are stored. */
function durableLines(gate) {
  return [
    `durableObjectNamespaces = [(className = "GatehouseSessions", uniqueKey = ${str(`gatehouse-bench-${gate.name}`)}, enableSql = true)]`,
    `durableObjectStorage = (localDisk = "objects-disk")`,
  ];
}

/**
 * Writes `<dir>/workerd.capnp`. `gates`: [{ name, port, store: "kv"|"redis"|"durable", policy, timing, bundle?, entry? }];
 * `pass`: { port }; `kv`: { port } of the KV process (writeKvConfig), or
 * { port, inProcess: true } for the namespace as a Worker of this same process;
 * `objects`: { disk: <absolute directory> }, where the Durable Objects' SQLite files go.
 */
export function writeWorkerdConfig({ dir, bundle, compatibilityDate, originUrl, secrets, redis, pass, kv, gates, objects }) {
  mkdirSync(dir, { recursive: true });
  const workers = [];
  const services = [`(name = "internet", network = (allow = ["local"]))`];
  const sockets = [];
  const add = (name, port, worker) => {
    workers.push(`const ${name}Worker :Workerd.Worker = (\n  ${worker.join(",\n  ")}\n);`);
    services.push(`(name = ${str(name)}, worker = .${name}Worker)`);
    if (port !== undefined) sockets.push(`(name = ${str(name)}, address = ${str(`127.0.0.1:${port}`)}, http = (), service = ${str(name)})`);
  };
  add("pass", pass.port, [
    `modules = [(name = "passthrough.js", esModule = ${embed(dir, join(HERE, "workers", "passthrough.js"))})]`,
    `compatibilityDate = ${str(compatibilityDate)}`,
    `bindings = [(name = "ORIGIN_URL", text = ${str(originUrl)})]`,
  ]);
  if (kv.inProcess) {
    add("kv", kv.port, [
      `modules = [(name = "kv.js", esModule = ${embed(dir, join(HERE, "workers", "kv.js"))})]`,
      `compatibilityDate = ${str(compatibilityDate)}`,
    ]);
  } else {
    services.push(`(name = "kv", external = (address = ${str(`127.0.0.1:${kv.port}`)}, http = ()))`);
  }
  if (gates.some((gate) => gate.store === "durable")) services.push(`(name = "objects-disk", disk = (path = ${str(objects.disk)}, writable = true))`);
  for (const gate of gates) {
    add(gate.name, gate.port, [
      gateModules(dir, gate, bundle),
      `compatibilityDate = ${str(compatibilityDate)}`,
      `bindings = [\n    ${gateBindings(gate, { originUrl, secrets, redis }).join(",\n    ")}\n  ]`,
      ...(gate.store === "durable" ? durableLines(gate) : []),
    ]);
  }
  const text = [
    `using Workerd = import "/workerd/workerd.capnp";`,
    ``,
    `const config :Workerd.Config = (`,
    `  services = [\n    ${services.join(",\n    ")}\n  ],`,
    `  sockets = [\n    ${sockets.join(",\n    ")}\n  ],`,
    `  extensions = [(modules = [(name = "bench:ratelimit", esModule = ${embed(dir, join(HERE, "workers", "ratelimit.js"))}, internal = true)])]`,
    `);`,
    ``,
    ...workers,
    ``,
  ].join("\n");
  const path = join(dir, "workerd.capnp");
  writeFileSync(path, text);
  return path;
}

/**
 * Starts `workerd serve <config>` pinned to `cpu` (taskset). Resolves with the
 * child once every port answers; the child's pid is workerd's own (the
 * binary is exec'd by taskset, not wrapped).
 */
export async function startWorkerd({ config, cpu, ports, log, inspector }) {
  // BENCH_VERBOSE=1: workerd's own diagnostics. `inspector` (an address): the V8 inspector, for profiling.
  const args = [
    "-c",
    String(cpu),
    WORKERD_BIN,
    "serve",
    config,
    ...(process.env.BENCH_VERBOSE ? ["--verbose"] : []),
    ...(inspector ? [`--inspector-addr=${inspector}`] : []),
  ];
  const child = spawn("taskset", args, { stdio: ["ignore", "pipe", "pipe"] });
  const output = [];
  const keep = (chunk) => {
    output.push(chunk.toString());
    if (output.length > 200) output.shift();
    // BENCH_LOG=<file>: keep everything workerd printed (the gate's JSON log) for debugging.
    if (process.env.BENCH_LOG) appendFileSync(process.env.BENCH_LOG, chunk);
    log?.(chunk.toString());
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  let exited = null;
  child.once("exit", (code, signal) => (exited = signal ?? `code ${code}`));
  const deadline = Date.now() + 30_000;
  for (const port of ports) {
    for (;;) {
      if (exited) throw new Error(`workerd exited (${exited}):\n${output.join("")}`);
      if (Date.now() > deadline) throw new Error(`workerd did not listen on ${port} within 30 s:\n${output.join("")}`);
      try {
        await fetch(`http://127.0.0.1:${port}/__bench/ping`, { signal: AbortSignal.timeout(1_000) });
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }
  child.output = output;
  return child;
}
