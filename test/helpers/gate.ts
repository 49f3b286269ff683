import { env } from "cloudflare:test";
import { SignJWT } from "jose";
import { createApp } from "../../src/app";
import { parseConfig } from "../../src/config/parse";
import type { Env } from "../../src/config/env";
import { deriveKeys } from "../../src/session/keys";
import { createKvStore } from "../../src/store/kv";
import { createMemoryStore } from "../../src/store/memory";
import type { SessionStore } from "../../src/store/types";
import type { LimiterBackend } from "../../src/ratelimit/types";
import { createBindingLimiters } from "../../src/ratelimit/binding";
import { createMemoryLimiters } from "../../src/ratelimit/memory";
import type { LogEvent } from "../../src/log";
import { createRecordingOrigin } from "./origin";

export const GATE_URL = "https://gate.example";
export const ORIGIN_SECRET = env.GATE_ORIGIN_SECRET as string;
export const ADMIN_TOKEN = env.GATE_ADMIN_TOKEN as string;
/** 2026-01-01T00:00:00Z: tests run on a clock they move themselves. */
export const T0 = Date.UTC(2026, 0, 1);

/** The policy the tests start from; each test may override parts of it. */
export const TEST_POLICY = {
  login_path: "/login",
  session: { idle_timeout: "30m", absolute_timeout: "12h", rotate_every: "15m", rotation_grace: "30s", binding: "report" },
  routes: [
    { path: "/login", access: "public" },
    { path: "/public/*", access: "public" },
    { path: "/webhooks/*", access: "public", csrf: false },
    { path: "/admin/*", roles: ["admin"], fresh: "10m" },
    { path: "/deny/*", access: "deny" },
    { path: "/read-only/*", methods: ["GET"] },
    { path: "/*", access: "session" },
  ],
};

/** Options of {@link createTestGate}. */
export interface TestGateOptions {
  /** Replaces keys of the `GATE` table. */
  gate?: Record<string, unknown>;
  /** Replaces environment variables. */
  env?: Partial<Env>;
  /** The backend: real miniflare KV (default) or the in-memory store. */
  store?: "kv" | "memory" | SessionStore;
  /** The rate limiting backend; default: the Workers Rate Limiting bindings for KV, memory otherwise. */
  limits?: LimiterBackend;
  /** Shares a clock with another test gate: two gates over one store behave like two isolates. */
  clock?: TestClock;
}

/** A clock the test moves by hand. */
export interface TestClock {
  now: number;
  advance(ms: number): void;
}

/** A fresh test clock at {@link T0}. */
export function createClock(): TestClock {
  const clock = { now: T0, advance: (ms: number) => void (clock.now += ms) };
  return clock;
}

/**
 * The whole gate, built as `src/index.ts` builds it, over real KV from
 * miniflare, a recording origin, a clock the test moves and a log it reads.
 */
export async function createTestGate(options: TestGateOptions = {}) {
  const clock = options.clock ?? createClock();
  const now = () => clock.now;
  const origin = createRecordingOrigin();
  const logs: Array<{ event: LogEvent } & Record<string, unknown>> = [];
  const gateEnv: Env = {
    ...env,
    ORIGIN: origin as unknown as Fetcher,
    GATE: { ...TEST_POLICY, ...options.gate },
    ...options.env,
  };
  const parsed = parseConfig(gateEnv);
  if (!parsed.ok) throw new Error(`test config is invalid:\n${parsed.problems.join("\n")}`);
  const store =
    options.store === "memory" ? createMemoryStore({ now }) : typeof options.store === "object" ? options.store : createKvStore(env.SESSIONS as KVNamespace);
  const limits = options.limits ?? (options.store === undefined || options.store === "kv" ? createBindingLimiters(gateEnv) : createMemoryLimiters(now));
  const app = createApp({
    config: parsed.config,
    store,
    limits,
    keys: await deriveKeys(parsed.config.secrets.gate),
    now,
    log: (event, fields = {}) => void logs.push({ event, ...fields }),
  });
  const pending: Promise<unknown>[] = [];
  const ctx = {
    waitUntil: (work: Promise<unknown>) => void pending.push(work),
    passThroughOnException() {},
    props: {},
  } as unknown as ExecutionContext;

  /** Sends a request through the gate, from 203.0.113.7 unless told otherwise. */
  async function request(path: string, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<Response> {
    const headers = { "CF-Connecting-IP": "203.0.113.7", "User-Agent": CHROME_UA, ...init.headers };
    const response = await app.fetch(new Request(GATE_URL + path, { ...init, headers }), gateEnv, ctx);
    await Promise.all(pending.splice(0));
    return response;
  }

  /** Logs `sub` in through the origin's X-Gate-Login and returns the session token. */
  async function login(sub: string, roles: string[] = [], extra: { headers?: Record<string, string> } = {}): Promise<string> {
    const jwt = await signLogin({ sub, roles }, Math.floor(clock.now / 1_000));
    origin.reply(() => new Response("welcome", { headers: { "X-Gate-Login": jwt } }));
    const response = await request("/login", { method: "POST", headers: { "Sec-Fetch-Site": "same-origin", ...extra.headers } });
    origin.reply((_r, seen) => Response.json(seen));
    const token = tokenFrom(response);
    if (!token) throw new Error(`login of ${sub} set no cookie (status ${response.status})`);
    return token;
  }

  return { request, login, origin, clock, logs, store, config: parsed.config, events: (name: LogEvent) => logs.filter((l) => l.event === name) };
}

/** A recent Chrome on Linux. */
export const CHROME_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.126 Safari/537.36";

/** A `Cookie` header carrying a session token. */
export const cookie = (token: string, name = "__Host-session") => ({ Cookie: `${name}=${token}` });

/** Signs an `X-Gate-Login` as the origin would. */
export async function signLogin(claims: Record<string, unknown>, iat: number, secret = ORIGIN_SECRET, lifetime = 60): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setIssuedAt(iat).setExpirationTime(iat + lifetime).sign(new TextEncoder().encode(secret));
}

/** The session token a response sets, or `undefined`; `""` when it clears the cookie. */
export function tokenFrom(response: Response, name = "__Host-session"): string | undefined {
  for (const line of response.headers.getSetCookie()) {
    if (line.startsWith(`${name}=`)) return line.slice(name.length + 1).split(";")[0];
  }
  return undefined;
}
