// docs/benchmarks.md, written by scripts/bench.mjs. The soak's section lives
// between markers, so a benchmark run keeps the last soak and a soak keeps the
// last benchmark.

import { attributionTable } from "./attribute.mjs";

const SOAK_START = "<!-- soak:start -->";
const SOAK_END = "<!-- soak:end -->";

const int = (v) => (Number.isFinite(v) ? Math.round(v).toLocaleString("en") : "n/a");
const fixed = (v, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : "n/a");
const signed = (v) => (Number.isFinite(v) ? `${v > 0 ? "+" : ""}${Math.round(v)}` : "n/a");
const mib = (kib) => `${(kib / 1024).toFixed(1)} MiB`;

/** "Store calls per request" as each arm's store counts them. */
function storeCalls(row) {
  switch (row.arm.store) {
    case "kv":
      return `${fixed(row.kvOps)} KV calls`;
    case "redis":
      return `${fixed(row.bridgeRequests)} HTTP (${fixed(row.bridgeCommands)} cmds)`;
    case "peer":
      return `${fixed(row.redisCommands)} Redis cmds`;
    default:
      return "–";
  }
}

function resultsTable(rows) {
  const lines = [
    "| arm | req/s @16 | × pass-through | p50 / p99 @16 (µs) | p50 / p99 @1 (µs) | added p50 / p99 @1 (µs) | CPU µs/req (over pass) | store calls / req | gate;dur @1 (µs) | errors |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
  ];
  for (const row of rows) {
    const cpu = row.arm.proc === "workerd" && row.arm.id !== "pass" ? `${int(row.cpu)} (+${int(row.cpuOverPass)})` : `${int(row.cpu)}${row.arm.proc === "origin" ? " (origin)" : ""}`;
    const added = row.arm.id === "pass" ? "0 / 0" : `${signed(row.added_p50)} / ${signed(row.added_p99)}`;
    lines.push(
      `| ${row.arm.label} | ${int(row.rps)} | ${fixed(row.ratio)} | ${int(row.p50_16)} / ${int(row.p99_16)} | ${int(row.p50_1)} / ${int(row.p99_1)} | ${added} | ${cpu} | ${storeCalls(row)} | ${Number.isFinite(row.gateDur) ? int(row.gateDur) : "–"} | ${row.errors} of ${int(row.requests)} |`,
    );
  }
  return lines.join("\n");
}

function targetsTable(rows, blocked) {
  const by = Object.fromEntries(rows.map((row) => [row.arm.id, row]));
  const kv = by.kv;
  const redis = by.redis;
  const peer = by.peer;
  const verdict = (ok) => (ok === undefined ? "–" : ok ? "met" : "**missed**");
  const lines = ["| target | measured | |", "| --- | --- | --- |"];
  if (kv) {
    // Counting calls cannot tell one round of two parallel calls from two rounds; one call is one round.
    lines.push(`| hot path: exactly 1 store round trip (KV) | ${fixed(kv.kvOps)} KV calls per request | ${verdict(kv.kvOps <= 1.02)} |`);
  }
  if (redis) lines.push(`| hot path: exactly 1 store round trip (Redis) | ${fixed(redis.bridgeRequests)} HTTP requests per request (${fixed(redis.bridgeCommands)} commands pipelined) | ${verdict(Math.abs(redis.bridgeRequests - 1) < 0.02)} |`);
  if (blocked) {
    lines.push(`| blocked client: 0 store round trips (Redis) | ${fixed(blocked.redis.perRequest)} per refused request (status ${blocked.redis.statuses.join(", ")}) | ${verdict(blocked.redis.perRequest === 0)} |`);
    lines.push(`| blocked client: 0 store round trips (KV) | ${fixed(blocked.kv.perRequest)} KV calls per refused request (status ${blocked.kv.statuses.join(", ")}) | ${verdict(blocked.kv.perRequest === 0)} |`);
  }
  if (kv) {
    lines.push(`| added latency over pass-through at 1 connection ≤ 100 µs (KV hit) | p50 ${signed(kv.added_p50)} µs, p99 ${signed(kv.added_p99)} µs | ${verdict(kv.added_p50 <= 100)} |`);
    lines.push(`| throughput ≥ 70 % of pass-through (KV hit) | ${fixed(kv.ratio * 100, 0)} % | ${verdict(kv.ratio >= 0.7)} |`);
    if (peer) lines.push(`| throughput above the Node peer (KV hit) | ${int(kv.rps)} vs ${int(peer.rps)} req/s (${fixed(kv.rps / peer.rps)}×) | ${verdict(kv.rps > peer.rps)} |`);
    lines.push(`| gate CPU ≤ 100 µs per request (KV hit) | ${int(kv.cpuOverPass)} µs over the pass-through Worker (${int(kv.cpu)} µs for the whole workerd process) | ${verdict(kv.cpuOverPass <= 100)} |`);
  }
  return lines.join("\n");
}

/** The whole report. `existing` is the current file, whose soak section is kept. */
export function renderReport(result, context, existing = "") {
  const { summary: rows, blocked } = result;
  const { machine, versions, options } = context;
  const by = Object.fromEntries(rows.map((row) => [row.arm.id, row]));
  const kind = options.quick
    ? `> **Quick run** (\`${context.command}\`: ${options.rounds} round, ${options.seconds} s per 16-connection run, ${options.latencySeconds} s per 1-connection run) on a machine shared with other engineers' test suites (load average ${machine.load} at the start). It checks the harness; the figures are indicative only. The full run is \`npm run bench\` on a quiet machine.`
    : `> Full run: \`${context.command}\`, ${options.rounds} rounds, ${options.seconds} s per 16-connection run and ${options.latencySeconds} s per 1-connection run for every arm, interleaved (load average ${machine.load} at the start).`;
  const headline = [];
  if (by.kv) headline.push(`with a session on KV the gate serves **${fixed(by.kv.ratio * 100, 0)} %** of the pass-through Worker's throughput and adds **${signed(by.kv.added_p50)} µs** (p50) at one connection`);
  if (by.redis) headline.push(`on Redis through the REST bridge **${fixed(by.redis.ratio * 100, 0)} %** and **${signed(by.redis.added_p50)} µs**`);
  if (by.public) headline.push(`a public route **${fixed(by.public.ratio * 100, 0)} %**`);
  if (by.peer && by.kv) headline.push(`the Node peer (express-session + connect-redis) reaches **${fixed(by.peer.ratio * 100, 0)} %** of the pass-through Worker, so the gate on KV does **${fixed(by.kv.rps / by.peer.rps)}×** its throughput`);
  const soak = existing.includes(SOAK_START) ? existing.slice(existing.indexOf(SOAK_START), existing.indexOf(SOAK_END) + SOAK_END.length) : `${SOAK_START}\n## Soak\n\nNot run yet: \`npm run bench -- --soak\`.\n${SOAK_END}`;
  return `# Benchmarks

${kind}

Generated by \`${context.command}\` on ${context.date.slice(0, 10)}; \`scripts/bench.mjs\` writes this file and
[bench-chart.svg](bench-chart.svg). Headline: ${headline.join("; ")}.

![Throughput relative to the pass-through Worker and added latency, per arm](bench-chart.svg)

## Results

Medians over ${options.rounds} round(s)${options.kvSeparate ? " (with --kv-separate: KV in its own process)" : ""}. "@16": 16 connections (one wrk thread and one session each),
enough to keep the Worker's CPU busy; "@1": one connection, one request at a time, for latency.
"added" is over the pass-through Worker at one connection. CPU is the process's
user + system time per request (all its threads) from \`/proc/<pid>/stat\`, at 16
connections; for workerd arms "(over pass)" subtracts the pass-through Worker's.
"gate;dur" is the mean of the gate's \`Server-Timing\` (see below).

${resultsTable(rows)}

During the 16-connection runs the Worker's CPU (${context.cpus.server}) was busy ${rows.map((r) => `${r.arm.short} ${fixed(r.busyServer * 100, 0)} %`).join(", ")};
the load CPU (${context.cpus.load}: wrk, the origin, Redis and the bridge) ${rows.map((r) => `${r.arm.short} ${fixed(r.busyLoad * 100, 0)} %`).join(", ")}.
${by.rotate ? `The rotating arm rotated ${fixed(by.rotate.rotations, 1)} times per second at 16 connections (${fixed((by.rotate.rotations / by.rotate.rps) * 100, 1)} % of its requests; each rotation is 2 KV writes).` : ""}

## Targets

Measured against, not asserted by tests.

${targetsTable(rows, blocked)}

## Machine

| | |
| --- | --- |
| CPU | ${machine.model}${machine.mhz ? ` (${machine.mhz} MHz)` : ""}, \`nproc\` ${machine.nproc} |
| memory | ${machine.memGiB} GiB |
| kernel | ${machine.kernel} |
| Node | ${versions.node} |
| workerd | ${versions.workerd} (the one \`wrangler\` ${versions.deps.wrangler} ships) |
| wrk | ${versions.wrk.replace(/\s*Copyright.*$/, "")} |
| redis-server | ${versions.redis} |
| peer | express ${versions.deps.express}, express-session ${versions.deps["express-session"]}, connect-redis ${versions.deps["connect-redis"]}, redis ${versions.deps.redis}, http-proxy-middleware ${versions.deps["http-proxy-middleware"]} |

## How it is measured

\`\`\`sh
apt-get install -y wrk redis-server   # once
npm run bench                         # ~8 min: writes this file and docs/bench-chart.svg
npm run bench -- --quick              # 1 round, 2 s per run: checks the harness
npm run bench -- --soak               # ≥ 1,000,000 requests with rotations; errors and memory
node bench/attribute.mjs              # only "Where the CPU goes" (--rounds, --seconds, --only)
node bench/profile.mjs gateKv 5       # a V8 CPU profile of one Worker under load (.bench/*.cpuprofile)
\`\`\`

- **The Worker runs under \`workerd serve\`**, not \`wrangler dev\`: the bundle is what
  \`wrangler deploy --dry-run\` produces, and \`bench/workerd.mjs\` writes the workerd config
  (one process holds every Worker of the run, each on its own loopback socket). workerd is
  pinned to CPU ${context.cpus.server} with \`taskset\`; the origin, wrk, redis-server and the REST bridge run
  on CPU ${context.cpus.load}. The Node peer is pinned to CPU ${context.cpus.server} like workerd.
- **KV** is \`bench/workers/kv.js\`, an in-memory namespace as a Worker of the same workerd process
  (as miniflare does it): workerd turns each call on a \`kvNamespace\` binding into an HTTP request
  to the service it names. It counts every call. Its handler's CPU is counted with the gate's;
  \`--kv-separate\` moves it to a workerd process of its own on the load CPU, which showed the same
  CPU per request within noise and a slower round trip (a wake-up across CPUs on this machine). A
  read here answers in microseconds; Cloudflare's KV answers from its cache in the data centre, or
  from further away on a miss.
- **Rate limits** run in every gate arm: the \`default\` limiter (per IP, 100,000,000 a minute, so
  never reached) on every request. In KV mode it is a Workers Rate Limiting binding, emulated as a workerd "wrapped"
  binding over \`bench/workers/ratelimit.js\` (an in-memory counter, like miniflare's); in Redis
  mode it is \`@upstash/ratelimit\`, pipelined with the session look-up.
- **Redis** is a throwaway \`redis-server\` behind \`test/redis/bridge.mjs\`, the Upstash-compatible
  REST bridge the tests use; its \`/__stats\` counts HTTP requests and commands. The peer talks
  RESP to the same server; its commands are counted with \`INFO stats\`.
- **Load**: \`wrk\` with \`bench/load.lua\`, 16 threads of one connection each at "@16", one at "@1";
  every request carries \`CF-Connecting-IP\` and a \`User-Agent\`, and in the session arms each
  connection has its own session (logged in through the gate's \`X-Gate-Login\`, or the peer's
  \`/login\`). Each arm is checked first
  (200, and the origin received \`X-Gate-User\`/\`X-User\`), then warmed for ${options.warmSeconds} s. Rounds
  interleave the arms (odd rounds in reverse order). Every figure is a median over rounds.
- **The rotating arm** runs \`rotate_every = "2s"\` with \`rotation_grace = "1s"\` (the config
  requires the grace to be shorter, so "1s" and "1s" is refused), and each connection takes 32
  sessions in turn, so that many requests find a rotation due. It follows \`Set-Cookie\`: every
  request sends its session's newest token. It logs in fresh sessions before every run, because a run that ends with a rotation in flight
  would leave the next run presenting a rotated token after the grace window, which the gate
  rightly treats as theft.
- **The peer** is \`bench/peer.mjs\`: Express 5, express-session with connect-redis, and
  http-proxy-middleware with a keep-alive agent. It requires a session (401 otherwise) and
  forwards with \`X-User\`. It is left as users run it: express-session touches the session on
  every request (connect-redis \`EXPIRE\`).
- **Latency** is timed per request by \`bench/load.lua\` itself (CLOCK_MONOTONIC through LuaJIT's
  FFI, one connection per wrk thread, so a response always answers that thread's last request).
  wrk's own latency statistics could not be used: at one connection, Debian's wrk 4.1.0 reported
  a mean and a p99 several times what the requests could have taken in the run's duration.
- **CPU per request** comes from \`/proc/<pid>/stat\` (utime + stime, every thread) around each
  run, divided by the requests wrk completed.
- **\`GATE_DEBUG_TIMING = "1"\`** (set on the bench's gates) makes the gate add
  \`Server-Timing: gate;dur=<ms>, origin;dur=<ms>\` (\`src/http/timing.ts\`): \`gate\` is the time
  from the request entering the gate to its response leaving it, less the wait for the origin's
  response headers. It is read with \`performance.now()\`, which in workerd is \`Date.now()\`:
  whole milliseconds (workerd does not offer a finer clock, a Spectre mitigation), advancing in
  real time locally and only at I/O on Cloudflare. One request's value is a whole number of
  milliseconds, mostly 0 or 1; the mean over thousands of requests at one connection (the "gate;dur" column) estimates the
  gate's wall time per request, store waits included, without the origin. It is not a CPU
  figure (on Cloudflare it would show only the store waits); the CPU column is.

${analysis(by, blocked, result.attribution)}

${soak}
`;
}

/** What the figures say, where the CPU goes, and what stands in the way of the targets missed. */
function analysis(by, blocked, attribution) {
  const parts = ["## Reading the figures", ""];
  const cpuOf = (name) => attribution?.rows?.find((r) => r.variant.name === name)?.cpu;
  const kvCallCost = by.kv?.kvOps > 0 ? (cpuOf("baseline") - cpuOf("memory-store")) / by.kv.kvOps : undefined;
  const bullet = (text) => parts.push(`- ${text}`);
  if (by.pass) {
    bullet(
      `The pass-through Worker costs ${int(by.pass.cpu)} µs of workerd CPU per request and ${signed(by.pass.p50_1 - (by.origin?.p50_1 ?? NaN))} µs at p50 over calling the origin directly: workerd's HTTP server and one subrequest, which every Worker pays.`,
    );
  }
  if (by.public) {
    bullet(
      `A public route costs ${int(by.public.cpuOverPass)} µs of CPU over it: security headers on the response, path normalisation and routing, the limiter, and the upstream request rebuilt without spoofable headers.`,
    );
  }
  if (by.kv) {
    bullet(
      `A session on KV costs ${int(by.kv.cpuOverPass)} µs over it; "Where the CPU goes" below splits that up. At one connection the added latency (${signed(by.kv.added_p50)} µs at p50) is that CPU plus the wait for the KV call, which answers from the same process here.`,
    );
  }
  if (by.redis) {
    bullet(
      `On Redis the look-up and the limiter travel in one HTTP request to the bridge (${fixed(by.redis.bridgeRequests)} per request, ${fixed(by.redis.bridgeCommands)} commands): a real subrequest, with the Upstash client's JSON and base64 handling, where KV mode makes ${fixed(by.kv?.kvOps ?? NaN)} KV call(s); and the added latency includes the bridge and redis-server, which share the load CPU with wrk.`,
    );
  }
  if (by.rotate && by.kv) {
    bullet(
      `Rotation costs little per request: the rotating arm rotates ${fixed((by.rotate.rotations / by.rotate.rps) * 100, 1)} % of its requests and spends ${int(by.rotate.cpu - by.kv.cpu)} µs more CPU per request than the KV arm.`,
    );
  }
  if (by.peer) {
    bullet(
      `The Node peer costs ${int(by.peer.cpu)} µs of CPU per request in its own process and makes ${fixed(by.peer.redisCommands)} Redis commands per request (GET, then the EXPIRE express-session's touch sends). It does less than the gate: no rotation, no assertion, no security headers, no rate limit.`,
    );
  }
  if (attribution?.rows?.length) {
    const row = (name) => attribution.rows.find((r) => r.variant.name === name)?.cpu;
    const base = row("baseline");
    const pass = row("pass-through");
    const memory = row("memory-store");
    const calls = by.kv?.kvOps ?? 3;
    parts.push(
      "",
      "## Where the CPU goes",
      "",
      "`bench/attribute.mjs` (run by `npm run bench`) builds the gate from a copy of `src/` with one piece",
      "switched off at a time and measures each build on the KV session path, side by side in one workerd",
      `process: the lowest of ${attribution.rounds} round(s) of ${attribution.seconds} s, since anything else on the machine only adds.`,
      "The baseline itself moves by tens of microseconds from run to run (garbage collection comes in bursts),",
      "so read differences of that size as noise, and a quick run's as rough.",
      "",
      attributionTable(attribution),
      "",
      ...(attribution.skipped?.length ? [`Not measured, because \`src/\` no longer has the text their patch replaces: ${attribution.skipped.join("; ")}.`, ""] : []),
    );
    if (Number.isFinite(memory) && Number.isFinite(base)) {
      bullet(
        `The KV calls (${fixed(calls)} per request) cost ${int(base - memory)} µs per request, both sides of each call included. Locally, workerd turns each KV call into an HTTP request to the namespace's service; on Cloudflare a KV read takes another path, whose CPU cost this harness cannot see.`,
      );
      bullet(`Without them the gate costs ${int(memory - pass)} µs over the pass-through Worker: that is its own work on the session path.`);
    }
    if (Number.isFinite(row("no-assertion"))) bullet(`Signing \`X-Gate-Assertion\` (an Ed25519 JWT per request) accounts for ${int(base - row("no-assertion"))} µs.`);
    if (Number.isFinite(row("no-pointer-cache"))) bullet(`Remembering token pointers in the isolate saves ${int(row("no-pointer-cache") - base)} µs (one KV call fewer per request).`);
  }
  parts.push("", "## What stands in the way of the targets missed", "");
  const kv = by.kv;
  if (kv && kv.kvOps > 1.02) {
    bullet(
      `**One store round trip on KV.** ${fixed(kv.kvOps)} KV calls per request. A token leads to its session only through its pointer (\`tok:<hash>\` → sid), so the session (\`ses:<sid>\`) and the revocation mark (\`rev:<sid>\`) can only be read after it. The mark is a key of its own because KV has no atomic multi-key write: a rotation or a touch racing a revocation may rewrite \`ses:\`, but nothing overwrites \`rev:\` (docs/storage-schema.md). What gets it to one call: the pointer never changes once written, so an isolate can remember it, and the session and the mark can be read in one bulk \`kv.get([…])\`.`,
    );
  }
  if (blocked && blocked.kv.perRequest > 0) {
    bullet(
      "**A blocked client on KV still costs a look-up.** The Workers Rate Limiting binding only answers yes or no when asked, so the gate cannot know a client is blocked before asking; it asks in parallel with the session look-up to keep one round of latency. Remembering a refused key in the isolate for the rest of the period (as @upstash/ratelimit's ephemeral cache does in Redis mode) would give 0 store calls, at the cost of refusing up to one period longer than the binding would.",
    );
  }
  if (kv) {
    bullet(
      `**CPU: ≤ 100 µs of gate CPU, ≥ 70 % of the pass-through's throughput, ≤ 100 µs added latency.** The three are one problem: with the Worker's CPU saturated, throughput is the inverse of CPU per request, and at one connection the added latency is mostly that CPU. The pass-through Worker costs ${int(by.pass?.cpu)} µs; 70 % of its throughput leaves the gate about ${int((by.pass?.cpu ?? 0) * (1 / 0.7 - 1))} µs of its own${kvCallCost ? `, where one KV call costs about ${int(kvCallCost)} µs here` : ""}. The gate measures ${int(kv.cpuOverPass)} µs over the pass-through: its KV calls, then its own work (Hono's pipeline, headers copied on the way in and out, URL and path parsing done more than once, the Ed25519 assertion). Meeting the targets would take ${kv.kvOps > 1.02 ? "the store calls down to one and " : ""}the gate's own work down to a fraction of what it is; of the three, 100 µs of CPU asks least.`,
    );
  }
  if (kv && by.peer && kv.rps <= by.peer.rps) {
    bullet(
      `**Above the Node peer.** On this harness the peer spends ${int(by.peer.cpu)} µs per request against the gate's ${int(kv.cpu)} µs (workerd's HTTP server included), so on one CPU it serves more requests. The peer does less per request (see above); the comparison that favours the gate is latency and operations: no servers, and at Cloudflare's edge the gate runs next to the user.`,
    );
  }
  return parts.join("\n");
}

/** The soak's section (between the markers). */
export function renderSoak(soak, context) {
  const ok = soak.errorCount === 0 && soak.requests >= soak.target && soak.sessionsValidAfter === soak.sessions;
  // More than 5 % over the second half of the run is growth, not noise.
  const climbing = soak.rssSecondHalf.to > soak.rssSecondHalf.from * 1.05;
  const samples = soak.samples.map((s) => `${Math.round(s.t)} s: ${mib(s.rss)}`).join(", ");
  return `${SOAK_START}
## Soak

\`${context.command}\` on ${context.date.slice(0, 10)} (${context.machine.model}, ${context.machine.nproc} CPUs, load average ${context.machine.load} at the start):
the rotating KV gate (\`rotate_every = "${soak.policy.rotate_every}"\`, \`rotation_grace = "${soak.policy.rotation_grace}"\`), 16 connections, each
cycling through 32 sessions and following every \`Set-Cookie\` (${soak.sessions} sessions), bounded at ${int(soak.target)} requests
and ${context.options.soakSeconds} s. The KV namespace runs in a workerd process of its own here, so that the pointers
every rotation leaves behind (kept for their TTL) are not counted as the gate's memory.

| | |
| --- | --- |
| requests | ${int(soak.requests)} in ${fixed(soak.seconds, 1)} s (${int(soak.rps)} req/s), stopped by ${soak.requests >= soak.target ? "the count" : "the time bound"} |
| errors | **${soak.errorCount}** (socket errors ${soak.errors.connect + soak.errors.read + soak.errors.write + soak.errors.timeout}, responses other than 2xx ${soak.non2xx}) |
| rotations followed | ${int(soak.rotations)} (KV writes: ${int(soak.kvPuts)}) |
| sessions still valid afterwards | ${soak.sessionsValidAfter} of ${soak.sessions} |
| latency | p50 ${int(soak.latency.p50)} µs, p99 ${int(soak.latency.p99)} µs, max ${int(soak.latency.max)} µs |
| workerd CPU | ${int(soak.cpuPerRequest)} µs per request |
| workerd RSS | ${mib(soak.rssStart)} at the start, ${mib(soak.rssEnd)} at the end, ${mib(soak.rssMax)} at most; ${mib(soak.rssSecondHalf.from)} → ${mib(soak.rssSecondHalf.to)} over the second half |

RSS every 10 s: ${samples}.

workerd's RSS grows in the first seconds of any load and then levels off, the pass-through Worker's
too (V8 sizes its heap to the allocation rate before collecting): a leak is RSS still climbing over the
second half of a long run, not the difference between start and end.

${ok ? "Result: **pass** (no errors, the target count reached, every session still valid)." : "Result: **FAIL**."}
${climbing ? `**RSS was still climbing over the second half** (+${mib(soak.rssSecondHalf.to - soak.rssSecondHalf.from)}): look for a leak.` : "RSS was level over the second half: no sign of a leak."}
${soak.target < 1_000_000 ? `\nThis was a shortened soak (${int(soak.target)} requests, on a shared machine); the full one is \`npm run bench -- --soak\` (1,000,000 requests, at most ${Math.round(900 / 60)} minutes).\n` : ""}${SOAK_END}`;
}

const HEADLINE_START = "<!-- bench:headline:start -->";
const HEADLINE_END = "<!-- bench:headline:end -->";

/** The README's figures (between its markers): a few ratios, labelled with the run they come from. */
export function renderHeadline(result, context) {
  const by = Object.fromEntries(result.summary.map((row) => [row.arm.id, row]));
  const line = (row) =>
    row ? `| ${row.arm.label} | ${fixed(row.ratio)}× | ${signed(row.added_p50)} µs | ${row.arm.proc === "workerd" ? `+${int(row.cpuOverPass)} µs` : `${int(row.cpu)} µs (Node)`} |` : "";
  const run = context.options.quick
    ? `a quick run (\`npm run bench -- --quick\`) on a shared ${context.machine.nproc}-CPU ${context.machine.model}, so indicative only`
    : `\`${context.command}\` on a ${context.machine.nproc}-CPU ${context.machine.model}`;
  return [
    HEADLINE_START,
    `From ${run}, ${context.date.slice(0, 10)}:`,
    "",
    "| | throughput vs a pass-through Worker | added latency, p50, 1 connection | CPU per request over the pass-through |",
    "| --- | ---: | ---: | ---: |",
    ...["public", "kv", "redis", "rotate", "peer"].map((id) => line(by[id])).filter(Boolean),
    HEADLINE_END,
  ].join("\n");
}

/** Replaces the text between the README's headline markers; leaves a README without them alone. */
export function replaceHeadline(readme, headline) {
  if (!readme.includes(HEADLINE_START) || !readme.includes(HEADLINE_END)) return readme;
  return readme.slice(0, readme.indexOf(HEADLINE_START)) + headline + readme.slice(readme.indexOf(HEADLINE_END) + HEADLINE_END.length);
}

/** Replaces (or appends) the soak section of a report. */
export function replaceSoak(report, section) {
  if (!report.includes(SOAK_START)) return `${report.trimEnd()}\n\n${section}\n`;
  return report.slice(0, report.indexOf(SOAK_START)) + section + report.slice(report.indexOf(SOAK_END) + SOAK_END.length);
}
