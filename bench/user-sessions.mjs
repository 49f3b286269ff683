// How the per-user operations grow with the user's sessions (the scaling note):
// the time of `GET /_gate/sessions` (the user's list) and of logging out
// everywhere (the origin answers `X-Gate-Logout: user`, bench/origin.mjs
// /logout-all) for a user with 1, 10 and 50 sessions (max_per_user's default
// is 50), on KV and on Durable Objects. Timed from Node, one request at a time,
// each beside the same request without the work (`GET /_gate/session`, one
// session's view; `GET /app` through the gate), so that the difference is the
// listing or the logout. Every answer is checked: the list has every session,
// and after the logout none of them passes.
import { randomBytes } from "node:crypto";
import { CLIENT, login } from "./harness.mjs";

export const SESSION_COUNTS = [1, 10, 50];

/** Milliseconds one request takes, with its status and body. */
async function timed(url, cookie) {
  const started = performance.now();
  const response = await fetch(url, { headers: { ...CLIENT, cookie } });
  const body = await response.text();
  return { ms: performance.now() - started, status: response.status, body };
}

/** `count` sessions of one new user, logged in one after the other (as one person's devices would). */
async function sessionsOfOneUser(baseUrl, count, label) {
  const sub = `${label}-${randomBytes(4).toString("hex")}`;
  const cookies = [];
  for (let i = 0; i < count; i++) cookies.push(...(await login(baseUrl, 1, { sub })));
  return cookies;
}

const quartiles = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { median: at(0.5), p25: at(0.25), p75: at(0.75), n: sorted.length };
};

async function listing(baseUrl, count, repeats) {
  const cookies = await sessionsOfOneUser(baseUrl, count, `list${count}`);
  const list = [];
  const base = [];
  for (let i = 0; i < repeats + 2; i++) {
    const one = await timed(`${baseUrl}/_gate/session`, cookies[0]);
    const all = await timed(`${baseUrl}/_gate/sessions`, cookies[0]);
    if (one.status !== 200 || all.status !== 200) throw new Error(`GET /_gate/sessions at ${baseUrl}: ${one.status}, ${all.status}`);
    const listed = JSON.parse(all.body).sessions.length;
    if (listed !== count) throw new Error(`GET /_gate/sessions at ${baseUrl} listed ${listed} sessions, not ${count}`);
    if (i < 2) continue; // warm-up
    base.push(one.ms);
    list.push(all.ms);
  }
  return { list: quartiles(list), listBase: quartiles(base) };
}

async function loggingOut(baseUrl, count, repeats) {
  const logout = [];
  const base = [];
  for (let i = 0; i < repeats + 1; i++) {
    const cookies = await sessionsOfOneUser(baseUrl, count, `out${count}`);
    const plain = await timed(`${baseUrl}/app`, cookies[0]);
    const out = await timed(`${baseUrl}/logout-all`, cookies[0]);
    if (plain.status !== 200 || out.status !== 200) throw new Error(`logout everywhere at ${baseUrl}: ${plain.status}, ${out.status}`);
    for (const cookie of [cookies[0], cookies.at(-1)]) {
      const after = await timed(`${baseUrl}/app`, cookie);
      if (after.status !== 401) throw new Error(`logout everywhere at ${baseUrl} left a session valid (${after.status})`);
    }
    if (i < 1) continue; // warm-up
    base.push(plain.ms);
    logout.push(out.ms);
  }
  return { logout: quartiles(logout), logoutBase: quartiles(base) };
}

/** For each store and session count: the list's and the logout's time, and their baselines (ms). */
export async function userSessions(env, { repeats, stores = { kv: "gateKv", durable: "gateDurable" } }) {
  const rows = [];
  for (const count of SESSION_COUNTS) {
    for (const [store, gate] of Object.entries(stores)) {
      const baseUrl = env.urls[gate];
      rows.push({ store, sessions: count, ...(await listing(baseUrl, count, repeats)), ...(await loggingOut(baseUrl, count, repeats)) });
    }
  }
  return { repeats, rows };
}
