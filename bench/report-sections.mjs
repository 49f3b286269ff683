// The sections of docs/benchmarks.md that issue 17 added: the targets table,
// the durable, DBSC, login and WebSocket arms, the scaling note and the
// startup. bench/report.mjs puts them together; every function takes the run's
// results and returns Markdown.
import { existsSync, readFileSync } from "node:fs";

export const int = (v) => (Number.isFinite(v) ? Math.round(v).toLocaleString("en") : "n/a");
export const fixed = (v, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : "n/a");
export const signed = (v) => (Number.isFinite(v) ? `${v > 0 ? "+" : ""}${Math.round(v)}` : "n/a");
const ms = (v, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : "n/a");
const signedMs = (v) => (Number.isFinite(v) ? `${v >= 0 ? "+" : "−"}${Math.abs(v).toFixed(2)}` : "n/a");
const spread = (q, digits = 2) => (q ? `${ms(q.median, digits)} (${ms(q.p25, digits)}–${ms(q.p75, digits)})` : "n/a");
const verdict = (ok) => (ok === undefined ? "–" : ok ? "met" : "**missed**");

/** The gate's own calls to Durable Objects per request: to the user's object (the session) and to limiter objects. */
export function objectSplit(calls = {}) {
  const limiter = calls.hit ?? 0;
  const session = Object.entries(calls).reduce((sum, [method, n]) => sum + (method === "hit" ? 0 : n), 0);
  return { session, limiter };
}

const byMethod = (calls = {}) =>
  Object.entries(calls)
    .sort((a, b) => b[1] - a[1])
    .map(([method, n]) => `\`${method}\` ${fixed(n)}`)
    .join(", ");

/** Issue 17's targets (its "now" column is what the gate measured when it was filed). */
export function targetsTable({ by, blocked, objects }) {
  const { kv, public: pub, redis, peer } = by;
  const lines = ["| figure (KV session path unless said) | at issue 17 | measured | target | |", "| --- | ---: | ---: | ---: | --- |"];
  const row = (figure, then, measured, target, ok, note = "") =>
    lines.push(`| ${figure} | ${then} | ${measured} | ${target} | ${verdict(ok)}${note} |`);
  if (kv) {
    const stretch = kv.cpuOverPass <= 100 ? " (the stretch too)" : "";
    row(
      "gate CPU over the pass-through Worker",
      "308 µs",
      `${int(kv.cpuOverPass)} µs`,
      "≤ 150 µs (stretch: ≤ 100 µs)",
      kv.cpuOverPass <= 150,
      stretch,
    );
  }
  if (pub) row("public route CPU over the pass-through", "137 µs", `${int(pub.cpuOverPass)} µs`, "≤ 50 µs", pub.cpuOverPass <= 50);
  if (kv) row("throughput × pass-through at 16 connections", "0.25", fixed(kv.ratio), "≥ 0.45", kv.ratio >= 0.45);
  if (kv && peer) row("throughput × the Node peer", "0.77", fixed(kv.rps / peer.rps), "≥ 1.2", kv.rps / peer.rps >= 1.2);
  if (kv) row("added p50 at one connection", "+406 µs", `${signed(kv.added_p50)} µs`, "≤ +200 µs", kv.added_p50 <= 200);
  // Counting calls cannot tell one round of two parallel calls from two rounds; one call is one round.
  if (kv) row("store round trips on the hot path: KV", "1", `${fixed(kv.kvOps)} KV calls`, "1", kv.kvOps <= 1.02);
  if (redis)
    row(
      "store round trips on the hot path: Redis",
      "1",
      `${fixed(redis.bridgeRequests)} HTTP requests (${fixed(redis.bridgeCommands)} commands pipelined)`,
      "1",
      Math.abs(redis.bridgeRequests - 1) < 0.02,
    );
  if (objects) {
    const { session, limiter } = objectSplit(objects.browsing);
    row(
      "store round trips on the hot path: Durable Objects",
      "–",
      `${fixed(session)} user-object + ${fixed(limiter)} limiter calls, issued together`,
      "1",
      session <= 1.02 && limiter <= 1.02,
    );
  }
  if (by.dbsc)
    row("store round trips on the hot path: KV, device-bound session", "–", `${fixed(by.dbsc.kvOps)} KV calls`, "1", by.dbsc.kvOps <= 1.02);
  for (const [store, label] of [
    ["kv", "KV"],
    ["redis", "Redis"],
    ["durable", "Durable Objects"],
  ]) {
    const b = blocked?.[store];
    if (b)
      row(
        `blocked client: store round trips (${label})`,
        store === "durable" ? "–" : "0",
        `${fixed(b.perRequest)} per refused request (status ${b.statuses.join(", ")})`,
        "0",
        b.perRequest === 0,
      );
  }
  return lines.join("\n");
}

/** The durable arm, the DBSC arm and its refreshes, and the login arm. */
export function newArmsSection({ by, objects, refresh, objectsOnDisk }) {
  const parts = [];
  const { durable, dbsc, login, kv } = by;
  if (durable) {
    const { session, limiter } = objectSplit(objects?.browsing);
    parts.push(
      "### Sessions in Durable Objects",
      "",
      `\`SESSION_STORE = "durable"\`: the bundle's \`GatehouseSessions\` class as a SQLite-backed namespace of the gate's Worker, in the same workerd process (its CPU counted with the gate's), ${objectsOnDisk ? "the SQLite files on disk (`--objects-disk`)" : "the SQLite files on tmpfs, so that the figures are SQLite's CPU and not this machine's disk"}. Its limiter is the Durable Objects one (an object per limiter and key). ` +
        `It serves **${fixed(durable.ratio)}×** the pass-through's throughput at ${int(durable.cpuOverPass)} µs of CPU over it${kv ? ` (${signed(durable.cpu - kv.cpu)} µs against KV)` : ""}, and adds ${signed(durable.added_p50)} µs at p50 at one connection.` +
        (objects
          ? ` Per request the gate makes ${fixed(session)} call(s) to the user's object and ${fixed(limiter)} to a limiter's (by method: ${byMethod(objects.browsing)}), counted on a twin Worker that wraps the namespace (bench/workers/count-objects.js).`
          : ""),
      "",
    );
  }
  if (dbsc) {
    parts.push(
      "### Device-bound sessions (DBSC)",
      "",
      `Sessions registered once with an ES256 key (bench/dbsc.mjs signs as a browser does: a \`dbsc+jwt\` proof with the key in its \`jwk\` header over the login's challenge), then browsed with the bound cookie: **${fixed(dbsc.ratio)}×** the pass-through's throughput, ${int(dbsc.cpuOverPass)} µs of CPU over it${kv ? ` (${signed(dbsc.cpu - kv.cpu)} µs against an unbound session on KV)` : ""}, ${fixed(dbsc.kvOps)} KV calls per request.`,
      "",
    );
    if (refresh && Object.keys(refresh).length) {
      parts.push(
        "A refresh (`POST /_gate/dbsc/refresh` with a valid proof over the last challenge, as Chrome sends it before the bound cookie runs out) in 16 chains from Node, each signing its next proof as soon as the last answer arrives; CPU is workerd's:",
        "",
        "| store | refreshes/s | workerd CPU µs per refresh | over a pass-through request | store calls per refresh | retried (403) |",
        "| --- | ---: | ---: | ---: | --- | ---: |",
      );
      for (const [store, r] of Object.entries(refresh)) {
        const calls =
          store === "durable"
            ? objects
              ? `${fixed(objects.perRefresh)} object calls (${byMethod(objects.refresh)})`
              : "–"
            : `${fixed(r.kvOpsPerRefresh)} KV calls`;
        parts.push(
          `| ${store === "kv" ? "KV" : "Durable Objects"} | ${int(r.rps)} | ${int(r.cpuPerRefresh)} | +${int(r.cpuOverPass)} | ${calls} | ${r.retries} |`,
        );
      }
      parts.push("");
    }
  }
  if (login && by.passLogin) {
    parts.push(
      "### Logins",
      "",
      "A public route whose origin answers with `X-Gate-Login` (bench/origin.mjs `/login`, an HS256 JWT): every request is a new user's login, so the gate verifies the JWT, lists the user's sessions (for `max_per_user`), writes the session and its pointer, and offers DBSC registration. The reference is the pass-through Worker on the same `/login?sub=…` requests.",
      "",
      "| | logins/s @16 | × pass-through /login | CPU µs per login (over pass-through) | added p50 @1 (µs) | KV calls per login |",
      "| --- | ---: | ---: | ---: | ---: | ---: |",
      `| ${login.arm.label} | ${int(login.rps)} | ${fixed(login.ratio)} | ${int(login.cpu)} (+${int(login.cpuOverPass)}) | ${signed(login.added_p50)} | ${fixed(login.kvOps)} |`,
      "",
    );
  }
  return parts.join("\n");
}

/** bench/websocket.mjs's results, or why there are none. */
export function websocketSection(websocket) {
  if (!websocket) return "### WebSockets\n\nNot run (`--no-websocket`).\n";
  if (websocket.missing)
    return "### WebSockets\n\nNot measured: `bench/websocket.mjs` is not in the tree. `scripts/bench.mjs` runs it with `--json` when it is.\n";
  const rows = websocket.summary;
  const pass = rows.find((row) => row.id === "pass");
  const o = websocket.options ?? {};
  const lines = [
    "### WebSockets",
    "",
    `\`bench/websocket.mjs\` (its own workerd, its own build of \`src/\` when it runs, its own echo origin, Node's \`ws\` as the client): ${o.rounds ?? "?"} round(s) of ${int(o.messages)} pipelined echoes (window ${o.window ?? "?"}) and ${int(o.roundTrips)} sequential round trips of ${o.size ?? "?"}-byte messages per arm; medians. CPU is workerd's per message relayed (an echo is two).`,
    "",
    "| path | echoes/s (pipelined) | × pass-through | workerd CPU µs/message (pipelined) | µs/message (one at a time) | round trip p50 / p99 (ms) |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const row of rows) {
    const cpu = (v) => (v === null || v === undefined ? "–" : fixed(v, 1));
    lines.push(
      `| ${row.label} | ${int(row.echoesPerSecond)} | ${pass ? fixed(row.echoesPerSecond / pass.echoesPerSecond) : "n/a"} | ${cpu(row.cpuPerMessageUs)} | ${cpu(row.cpuPerRoundTripMessageUs)} | ${ms(row.p50Ms, 3)} / ${ms(row.p99Ms, 3)} |`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/** The scaling note: routes, headers, cookie size, sessions per user. */
export function scalingSection(scaling) {
  if (!scaling) return "## Scaling\n\nNot run (`--no-scaling`).\n";
  const row = (id) => scaling.rows.find((r) => r.id === id);
  const lines = [
    "## Scaling",
    "",
    `\`bench/scaling.mjs\` (run by \`npm run bench\`): CPU per request at 16 connections, each case beside the pass-through Worker given the very same requests, interleaved in one workerd process; medians of ${scaling.rounds} round(s) of ${scaling.seconds} s. Sessions on KV.`,
    "",
    "| routes in `GATE.routes` | CPU µs/req, the first route matches | over pass-through | the last route matches | over pass-through |",
    "| ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const count of [...new Set(scaling.rows.filter((r) => r.group === "routes").map((r) => r.count))]) {
    const first = row(`routes-${count}-first`);
    const last = row(`routes-${count}-last`);
    lines.push(`| ${int(count)} | ${int(first.cpu)} | +${int(first.cpuOverRef)} | ${int(last.cpu)} | +${int(last.cpuOverRef)} |`);
  }
  lines.push("", "| request | gate CPU µs/req | pass-through CPU µs/req | gate over pass-through |", "| --- | ---: | ---: | ---: |");
  for (const r of scaling.rows.filter((x) => x.group === "headers" || x.group === "cookie")) {
    const label = r.group === "headers" ? `${r.count} request headers` : `Cookie header of ${int(r.count)} bytes`;
    lines.push(`| ${label} | ${int(r.cpu)} | ${int(row(r.ref).cpu)} | +${int(r.cpuOverRef)} |`);
  }
  const perUser = scaling.perUser;
  if (perUser) {
    lines.push(
      "",
      `Per user, timed from Node one request at a time (milliseconds, median and quartiles of ${perUser.repeats}): \`GET /_gate/sessions\` against \`GET /_gate/session\` (one session's view) with the same cookie, and logging out everywhere (the origin answers \`X-Gate-Logout: user\`) against a plain \`GET /app\` with the same session just before. Every list was checked to hold every session, and after each logout none of the sessions passed.`,
      "",
      "| sessions of the user | store | `GET /_gate/sessions` (ms) | over one session's view | logout everywhere (ms) | over a plain request |",
      "| ---: | --- | ---: | ---: | ---: | ---: |",
    );
    for (const r of perUser.rows) {
      lines.push(
        `| ${r.sessions} | ${r.store === "kv" ? "KV" : "Durable Objects"} | ${spread(r.list)} | ${signedMs(r.list.median - r.listBase.median)} | ${spread(r.logout)} | ${signedMs(r.logout.median - r.logoutBase.median)} |`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

/** The startup figures: today's bundle, the tree before lazy loading, the pass-through Worker. */
export function startupSection(startup) {
  if (!startup) return "## Startup\n\nNot run (`--no-startup`).\n";
  const { phases, samples, commit, sizes } = startup;
  const kib = (bytes) => (Number.isFinite(bytes) ? `${(bytes / 1024).toFixed(0)} KiB` : "–");
  const label = {
    today: "gate, today's tree",
    eager: "gate, today's tree with the Redis backends imported eagerly",
    before: `gate at ${commit} (Upstash loaded eagerly)`,
    pass: "pass-through Worker",
  };
  const lines = [
    "## Startup",
    "",
    `\`bench/startup.mjs\`: ${samples} samples per bundle, interleaved; medians with quartiles, in milliseconds. Every gate bundle is built as \`wrangler deploy --dry-run\` builds it: today's tree; the same tree with \`src/store/select.ts\` importing the Redis backends at the top again (the lazy import undone, nothing else); and ${commit}, the last commit before the Upstash code was loaded only in Redis mode, from a temporary \`git worktree\`.`,
    "",
    "- **workerd**: a fresh `workerd serve` per sample, pinned to the Worker's CPU, with the pass-through Worker, the KV namespace and the measured Worker: from spawn until its socket accepts a connection (workerd compiles and evaluates every Worker before it listens), then the first request (a login through the gate: it builds itself from its config) and the second (the first session request: the first signed assertion), timed from Node on the other CPU.",
    "- **isolate**: a fresh V8 isolate per sample (a Node worker thread, Node's V8): `import()` of the bundle, that is parse, compile and evaluation of its top level, with `cloudflare:workers` stubbed.",
    "",
    "| bundle | size | spawn → listening | first request (login) | second request (session) | isolate: parse + evaluate |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const name of ["today", "eager", "before", "pass"].filter((n) => phases[n])) {
    const p = phases[name];
    lines.push(
      `| ${label[name]} | ${kib(sizes[name])} | ${spread(p.listen)} | ${spread(p.first)} | ${spread(p.second)} | ${spread(p.evaluate, 3)} |`,
    );
  }
  const d = (a, b, key) => phases[a][key].median - phases[b][key].median;
  const against = (other) =>
    `${signed(d("today", other, "evaluate") * 1000)} µs to evaluate, ${signed(d("today", other, "listen") * 1000)} µs to listen, ${signed(d("today", other, "first") * 1000)} µs on the first request, ${signed(d("today", other, "second") * 1000)} µs on the second`;
  lines.push(
    "",
    `Over the pass-through Worker (differences of medians): today's gate ${ms(d("today", "pass", "listen"))} ms to listen, ${ms(d("today", "pass", "first"))} ms more on its first request, ${ms(d("today", "pass", "evaluate"), 3)} ms to evaluate in an isolate. ` +
      `Today against ${commit}: ${against("before")}; that tree is a smaller gate (${kib(sizes.before)} against ${kib(sizes.today)}: no Durable Objects, OpenID Connect, DBSC or WebSockets yet), so the lazy import alone is the comparison with the eager build of today's tree` +
      (phases.eager ? `: today against it, ${against("eager")}.` : " (not built: src/store/select.ts no longer has the lazy import).") +
      " workerd's figures carry the noise of starting a process (about a millisecond); the isolate's are the finer.",
  );
  return `${lines.join("\n")}\n`;
}

/**
 * The self time of the KV session path by source file, from the last `node bench/profile.mjs gateKv`
 * (.bench/gateKv.profile.json), or nothing when there is none.
 */
export function profileSection() {
  const file = new URL("../.bench/gateKv.profile.json", import.meta.url);
  if (!existsSync(file)) return "";
  const { date, requests, byFile } = JSON.parse(readFileSync(file, "utf8"));
  const rows = byFile.slice(0, 18).map(([where, share]) => `| ${where} | ${(share * 100).toFixed(1)} % |`);
  return [
    `The profile behind this (\`node bench/profile.mjs gateKv 5\` on ${date}: a V8 sampling profile of the gate's isolate on the KV session path, ${requests.toLocaleString("en")} requests at 16 connections). Self time by source file of the bundle; "(idle)" is the isolate waiting (for the origin and KV), "(program)" workerd's own native work seen from that thread, and a native call (WebCrypto's Ed25519 signature, \`fetch\`, \`Headers\`) counts with the file that calls it:`,
    "",
    "| where | share of the samples |",
    "| --- | ---: |",
    ...rows,
  ].join("\n");
}
