// The scaling note of docs/benchmarks.md: how the gate's CPU per request grows
// with the size of what it is given, each case beside a pass-through Worker
// that gets the very same requests, in interleaved rounds in one workerd process:
//   routes   10, 100 and 1,000 routes in GATE.routes (bench/harness.mjs manyRoutes),
//            a request matching the first route and one matching only the last
//   headers  10 and 50 request headers in all (Host, CF-Connecting-IP, User-Agent,
//            Cookie and X-Bench-Pad-* fillers)
//   cookie   a Cookie header of 4 KiB, and of 16 KiB (the session cookie first, then
//            other cookies; 16 KiB is the most one header may hold, src/http/header-limits.ts)
// and, with bench/user-sessions.mjs, the time of listing and of logging out
// every session of a user with 1, 10 and 50 sessions, on KV and on Durable Objects.
//
//   node bench/scaling.mjs [--rounds 3] [--seconds 3]   (npm run bench runs it too)
import { CLIENT, benchPolicy, login, startAll, stopAll } from "./harness.mjs";
import { cpuMicros } from "./proc.mjs";
import { userSessions } from "./user-sessions.mjs";
import { runWrk } from "./wrk.mjs";

export const ROUTE_COUNTS = [10, 100, 1000];
export const HEADER_COUNTS = [10, 50];
/** Cookie header sizes, name and value: 4 KiB, and the largest the gate accepts in one header. */
export const COOKIE_BYTES = [4096, 16 * 1024];

const routeGate = (count) => `gateRoutes${count}`;

/** CLIENT plus X-Bench-Pad-* headers, so that a request with a Cookie has `total` headers with Host. */
function paddedHeaders(total) {
  const headers = { ...CLIENT };
  const fillers = total - Object.keys(CLIENT).length - 2; // Host (wrk's) and Cookie
  for (let i = 0; i < fillers; i++) headers[`X-Bench-Pad-${String(i).padStart(2, "0")}`] = `value-${String(i).padStart(10, "0")}-abcdefghij`;
  return headers;
}

/** Other cookies after the session's, so that `Cookie: <session>; <extra>` is `bytes` long, name and value. */
export function cookieExtra(sessionCookie, bytes) {
  let room = bytes - "cookie".length - sessionCookie.length - "; ".length;
  const parts = [];
  // Cookies of 100 characters, each with its "; ", then one that takes the rest exactly.
  for (let i = 0; room > 120; i++, room -= 102) parts.push(`pref_${String(i).padStart(3, "0")}=`.padEnd(100, "v"));
  parts.push(`last=${"v".repeat(room - 5)}`);
  return parts.join("; ");
}

/** Every case: a gate or the pass-through Worker, a path, and the request's headers and cookie. */
function cases() {
  const list = [{ id: "pass", group: "reference", target: "pass", path: "/app", label: "pass-through Worker" }];
  for (const count of ROUTE_COUNTS) {
    list.push({
      id: `routes-${count}-first`,
      group: "routes",
      target: routeGate(count),
      path: "/first/page",
      session: true,
      ref: "pass",
      count,
      match: "first",
    });
    list.push({
      id: `routes-${count}-last`,
      group: "routes",
      target: routeGate(count),
      path: "/app",
      session: true,
      ref: "pass",
      count,
      match: "last",
    });
  }
  for (const count of HEADER_COUNTS) {
    list.push({ id: `pass-headers-${count}`, group: "reference", target: "pass", path: "/app", session: true, headers: paddedHeaders(count), count });
    list.push({
      id: `headers-${count}`,
      group: "headers",
      target: "gateKv",
      path: "/app",
      session: true,
      headers: paddedHeaders(count),
      ref: `pass-headers-${count}`,
      count,
    });
  }
  for (const bytes of COOKIE_BYTES) {
    list.push({ id: `pass-cookie-${bytes}`, group: "reference", target: "pass", path: "/app", session: true, cookieBytes: bytes, count: bytes });
    list.push({
      id: `cookie-${bytes}`,
      group: "cookie",
      target: "gateKv",
      path: "/app",
      session: true,
      cookieBytes: bytes,
      ref: `pass-cookie-${bytes}`,
      count: bytes,
    });
  }
  return list;
}

/** Checks a case answers 200 through the gate (a refused header or cookie would measure the refusal). */
async function check(env, item, cookies) {
  const cookie = cookies[0] ? (item.cookieBytes ? `${cookies[0]}; ${cookieExtra(cookies[0], item.cookieBytes)}` : cookies[0]) : undefined;
  const response = await fetch(`${env.urls[item.target]}${item.path}`, { headers: { ...(item.headers ?? CLIENT), ...(cookie ? { cookie } : {}) } });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`scaling ${item.id}: expected 200, got ${response.status}`);
}

/** Measures every case (16 connections), interleaved over rounds; then the sessions-per-user timings. */
export async function scaling(options, cpus = { load: 0, server: 1 }) {
  const gates = ROUTE_COUNTS.map((count) => ({ name: routeGate(count), store: "kv", policy: benchPolicy({ routes: count }), timing: false }));
  const env = await startAll({ loadCpu: cpus.load, serverCpu: cpus.server, withRedis: false, withPeer: false, withDurable: true, gates });
  try {
    const list = cases();
    const sessions = new Map();
    for (const target of new Set(list.filter((c) => c.target !== "pass").map((c) => c.target)))
      sessions.set(target, await login(env.urls[target], 16, { prefix: "scale" }));
    // The pass-through Worker gets the gate's cookies, so that both see the same request.
    sessions.set("pass", sessions.get("gateKv"));
    const run = async (item, seconds) => {
      const cookies = item.session ? sessions.get(item.target) : [];
      const before = cpuMicros(env.workerd.pid);
      const wrk = await runWrk({
        url: `${env.urls[item.target]}${item.path}`,
        connections: 16,
        threads: 16,
        seconds,
        cpu: cpus.load,
        headers: item.headers ?? CLIENT,
        cookies,
        cookieExtra: item.cookieBytes ? cookieExtra(cookies[0], item.cookieBytes) : "",
      });
      if (wrk.errorCount > 0) throw new Error(`scaling ${item.id}: ${wrk.errorCount} failed requests ${JSON.stringify(wrk.errors)}`);
      return { cpu: (cpuMicros(env.workerd.pid) - before) / wrk.requests, rps: wrk.rps };
    };
    const warmed = new Set();
    for (const item of list) {
      await check(env, item, item.session ? sessions.get(item.target) : []);
      // Warm-up: every case in a full run; each Worker once in a quick one.
      if (!options.quick || !warmed.has(item.target)) await run(item, 1);
      warmed.add(item.target);
    }
    const results = new Map(list.map((item) => [item.id, []]));
    for (let round = 0; round < options.rounds; round++) {
      for (const item of round % 2 ? [...list].reverse() : list) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        results.get(item.id).push(await run(item, options.seconds));
      }
      console.log(
        `scaling round ${round + 1}/${options.rounds}: ${list.map((item) => `${item.id} ${results.get(item.id).at(-1).cpu.toFixed(0)}`).join(", ")}`,
      );
    }
    const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
    const rows = list.map((item) => ({
      ...item,
      headers: undefined,
      cpu: median(results.get(item.id).map((r) => r.cpu)),
      rps: median(results.get(item.id).map((r) => r.rps)),
    }));
    for (const row of rows) if (row.ref) row.cpuOverRef = row.cpu - rows.find((r) => r.id === row.ref).cpu;
    const perUser = await userSessions(env, { repeats: options.quick ? 5 : 15 });
    return { rounds: options.rounds, seconds: options.seconds, rows, perUser };
  } finally {
    await stopAll();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const option = (name, fallback) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
  scaling({ rounds: option("--rounds", 3), seconds: option("--seconds", 3) })
    .then((result) => console.log(JSON.stringify(result, null, 1)))
    .catch(async (error) => {
      console.error(error.stack ?? error.message);
      await stopAll();
      process.exit(1);
    });
}
