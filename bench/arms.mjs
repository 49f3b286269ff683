// The arms of `npm run bench` and how one is measured: its sessions, the check
// before it is timed, one wrk run with every counter around it. The extras that
// are not wrk runs (DBSC refreshes, Durable Object call counts, blocked clients)
// are in bench/extras.mjs. scripts/bench.mjs runs them in interleaved rounds.
import { CLIENT, busyShare, cpuBusy, getJson, login, redisCommands } from "./harness.mjs";
import { bindSessions, keepBound } from "./dbsc.mjs";
import { cpuMicros } from "./proc.mjs";
import { runWrk } from "./wrk.mjs";

/**
 * The arms, in the order they run within a round (odd rounds run it backwards).
 * `ref`: the arm every ratio of this one is to (default the pass-through Worker
 * on /app); `unique`: every request logs a new user in; `bound`: the sessions
 * are device-bound (DBSC) first; `counter`: the Worker that counts this arm's
 * Durable Object calls (bench/workers/count-objects.js).
 */
export const ARMS = [
  { id: "origin", label: "origin, directly", short: "origin", target: "origin", path: "/app", proc: "origin", kind: "reference" },
  { id: "pass", label: "pass-through Worker (the floor)", short: "pass-through", target: "pass", path: "/app", proc: "workerd", kind: "reference" },
  {
    id: "public",
    label: "gate, public route",
    short: "gate public",
    target: "gateKv",
    path: "/public/page",
    proc: "workerd",
    kind: "gate",
    store: "kv",
  },
  {
    id: "kv",
    label: "gate, session on KV",
    short: "gate KV",
    target: "gateKv",
    path: "/app",
    proc: "workerd",
    kind: "gate",
    session: true,
    store: "kv",
  },
  {
    id: "redis",
    label: "gate, session on Redis (REST bridge)",
    short: "gate Redis",
    target: "gateRedis",
    path: "/app",
    proc: "workerd",
    kind: "gate",
    session: true,
    store: "redis",
  },
  {
    id: "durable",
    label: "gate, session in Durable Objects (SQLite), with their limiter",
    short: "gate durable",
    target: "gateDurable",
    path: "/app",
    proc: "workerd",
    kind: "gate",
    session: true,
    store: "durable",
    counter: "gateDurableCount",
  },
  {
    id: "dbsc",
    label: "gate, KV, device-bound session (DBSC, ES256)",
    short: "gate DBSC",
    target: "gateKv",
    path: "/app",
    proc: "workerd",
    kind: "gate",
    session: true,
    bound: true,
    store: "kv",
  },
  {
    id: "rotate",
    label: "gate, KV, rotate_every 2s, grace 1s, 32 sessions per connection",
    short: "gate KV rotating",
    perThread: 32,
    target: "gateRotate",
    path: "/app",
    proc: "workerd",
    kind: "gate",
    session: true,
    follow: true,
    store: "kv",
  },
  {
    id: "passLogin",
    label: "pass-through Worker, /login (the login arm's floor)",
    short: "pass-through /login",
    target: "pass",
    path: "/login",
    proc: "workerd",
    kind: "reference",
    unique: true,
  },
  {
    id: "login",
    label: "gate, KV, login: public route, the origin answers X-Gate-Login",
    short: "gate login",
    target: "gateKv",
    path: "/login",
    proc: "workerd",
    kind: "gate",
    store: "kv",
    unique: true,
    ref: "passLogin",
  },
  {
    id: "peer",
    label: "Node peer: express-session + connect-redis + http-proxy-middleware",
    short: "Node peer",
    target: "peer",
    path: "/app",
    proc: "peer",
    kind: "peer",
    session: true,
    store: "peer",
  },
];

/** Connections of the throughput runs: one wrk thread each, one session each (the rotating arm: 32). */
export const CONNECTIONS = 16;

/** A bound session's cookie is refreshed before a run once it is this old: well inside device_cookie_ttl (10 minutes). */
const REBIND_AFTER_MS = 4 * 60_000;

/** Counters of every store, read before and after a run. */
export async function storeCounters(env) {
  const [kv, origin] = await Promise.all([getJson(`${env.urls.kv}/__bench/stats`), getJson(`${env.origin.url}/__stats`)]);
  const counters = {
    kvOps: kv.get + kv.put + kv.delete + kv.list,
    kvGets: kv.get,
    kvPuts: kv.put,
    originRequests: origin.requests,
    originGateUser: origin.gateUser,
    originPeerUser: origin.peerUser,
  };
  if (env.redis) {
    const bridge = await getJson(`${env.redis.url}/__stats`);
    counters.bridgeRequests = bridge.requests;
    counters.bridgeCommands = bridge.commands;
    counters.redisCommands = await redisCommands(env.redis.redisPort);
  }
  return counters;
}

/** Lets the requests a stopped wrk left in flight finish, so they count for no one. */
export const settle = () => new Promise((resolve) => setTimeout(resolve, 250));

export const diff = (after, before) => Object.fromEntries(Object.keys(after).map((key) => [key, after[key] - before[key]]));

function pidOf(env, arm) {
  return arm.proc === "workerd" ? env.workerd.pid : arm.proc === "peer" ? env.peer.pid : env.origin.pid;
}

export function urlOf(env, arm) {
  const base = arm.target === "origin" ? env.origin.url : arm.target === "peer" ? env.peer.url : env.urls[arm.target];
  return `${base}${arm.path}`;
}

/** The wrk options of an arm's load (everything but duration and connections). */
export const loadOf = (env, arm, cookies, cpus) => ({
  url: urlOf(env, arm),
  cpu: cpus.load,
  headers: CLIENT,
  cookies,
  perThread: arm.perThread ?? 1,
  follow: arm.follow,
  unique: arm.unique,
});

/** One measured run of one arm: wrk plus every counter around it. */
export async function measure(env, arm, { connections, seconds, track, cookies, cpus }) {
  const pid = pidOf(env, arm);
  await settle();
  const before = await storeCounters(env);
  const cpuBefore = cpuMicros(pid);
  const busyBefore = cpuBusy();
  const wrk = await runWrk({ ...loadOf(env, arm, cookies, cpus), connections, threads: connections, seconds, track });
  const busy = busyShare(busyBefore, cpuBusy());
  const cpu = cpuMicros(pid) - cpuBefore;
  const counters = diff(await storeCounters(env), before);
  // The counters' own reads (one INFO command per reading) are not the arm's.
  if (counters.redisCommands !== undefined) counters.redisCommands -= 1;
  return { wrk, cpuPerRequest: cpu / wrk.requests, counters, busy: { load: busy[cpus.load], server: busy[cpus.server] } };
}

/**
 * Sessions for an arm, `perThread` per connection, as cookies. Rotating arms get fresh ones before
 * every run (see docs/benchmarks.md); bound ones are registered once and refreshed before they run out.
 */
export async function sessionsFor(env, arm, cache, connections) {
  if (!arm.session) return [];
  const count = connections * (arm.perThread ?? 1);
  const base = arm.target === "peer" ? env.peer.url : env.urls[arm.target];
  if (arm.bound) {
    const have = cache.get(arm.id) ?? [];
    if (have.length < count) have.push(...(await bindSessions(base, count - have.length, { prefix: arm.id, headers: CLIENT })));
    cache.set(arm.id, have);
    const bound = have.slice(0, count);
    await keepBound(base, bound, CLIENT, REBIND_AFTER_MS);
    return bound.map((session) => session.cookie);
  }
  if (!arm.follow && cache.get(arm.id)?.length >= count) return cache.get(arm.id).slice(0, count);
  const cookies = await login(base, count, { prefix: arm.id });
  cache.set(arm.id, cookies);
  return cookies;
}

/** Checks an arm does what it claims before it is timed: 200, the origin saw the identity (or, for a login, the gate set a session). */
export async function verify(env, arm, cookies) {
  await settle();
  const before = await getJson(`${env.origin.url}/__stats`);
  const url = arm.unique ? `${urlOf(env, arm)}?sub=verify-${Date.now()}` : urlOf(env, arm);
  const response = await fetch(url, { headers: { ...CLIENT, ...(cookies[0] ? { cookie: cookies[0] } : {}) } });
  await response.arrayBuffer();
  const after = await getJson(`${env.origin.url}/__stats`);
  if (response.status !== 200) throw new Error(`arm ${arm.id}: expected 200, got ${response.status}`);
  if (after.requests - before.requests !== 1) throw new Error(`arm ${arm.id}: the origin saw ${after.requests - before.requests} requests, not 1`);
  const identified = arm.kind === "peer" ? after.peerUser - before.peerUser : after.gateUser - before.gateUser;
  if (arm.session && identified !== 1) throw new Error(`arm ${arm.id}: the origin got no identity header`);
  if (arm.kind === "gate" && response.headers.has("server-timing")) throw new Error(`arm ${arm.id}: Server-Timing on: the gates run as shipped`);
  if (!arm.session && identified !== 0) throw new Error(`arm ${arm.id}: unexpected identity header`);
  if (arm.unique && arm.kind === "gate" && !response.headers.getSetCookie().some((value) => /^__Host-session=./.test(value))) {
    throw new Error(`arm ${arm.id}: the login set no session cookie`);
  }
}
