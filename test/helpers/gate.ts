import { env } from "cloudflare:test";
import { inject } from "vitest";
import { selectBackends } from "../../src/store/select";
import { SignJWT } from "jose";
import { createApp } from "../../src/app";
import { parseConfig } from "../../src/config/parse";
import type { Env } from "../../src/config/env";
import { deriveKeys } from "../../src/derive";
import { createKvStore } from "../../src/store/kv";
import { createMemoryStore } from "../../src/store/memory";
import type { SessionStore } from "../../src/store/types";
import type { LimiterBackend } from "../../src/ratelimit/types";
import { createBindingLimiters } from "../../src/ratelimit/binding";
import { createMemoryLimiters } from "../../src/ratelimit/memory";
import { createDurableStore } from "../../src/store/durable";
import { createDurableLimiters } from "../../src/ratelimit/durable";
import type { LogEvent } from "../../src/log";
import { createRecordingOrigin } from "./origin";
import { createAssertionKeys } from "../../src/assertion/signing-keys";
import { createObserver } from "../../src/metrics/observer";

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
  /**
   * The backend: real miniflare KV (default), Redis through the Upstash REST
   * bridge (built by `selectBackends`, exactly as in production), the in-memory
   * store, Durable Objects over `env.SESSION_OBJECTS` (a store and limiters of
   * this gate's own, so each gate is an isolate; windows on the test clock), or
   * a store the test wraps.
   */
  store?: "kv" | "redis" | "memory" | "durable" | SessionStore;
  /** With `store: "redis"`: use the bridge whose Redis outage tests may stop. */
  redisOutagePair?: boolean;
  /** The rate limiting backend; default: the Workers Rate Limiting bindings for KV, memory otherwise. */
  limits?: LimiterBackend;
  /** Shares a clock with another test gate: two gates over one store behave like two isolates. */
  clock?: TestClock;
  /** GATE_METRICS: a dataset the gate writes its data points to (test/metrics/), with the timer of gate and origin time. */
  metrics?: { dataset: AnalyticsEngineDataset; timer?: () => number };
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
  const redis = options.store === "redis" ? redisBridge(options.redisOutagePair) : undefined;
  const gateEnv: Env = {
    ...env,
    ORIGIN: origin as unknown as Fetcher,
    GATE: { ...TEST_POLICY, ...options.gate },
    ...(redis && { SESSION_STORE: "redis", UPSTASH_REDIS_REST_URL: redis.url, UPSTASH_REDIS_REST_TOKEN: redis.token }),
    ...(options.store === "durable" && { SESSION_STORE: "durable" }),
    ...options.env,
  };
  const parsed = parseConfig(gateEnv);
  if (!parsed.ok) throw new Error(`test config is invalid:\n${parsed.problems.join("\n")}`);
  const durable = options.store === "durable" && {
    store: createDurableStore(env.SESSION_OBJECTS),
    limits: createDurableLimiters(env.SESSION_OBJECTS, now),
  };
  const backends = redis ? await selectBackends(parsed.config) : durable || undefined;
  const store =
    backends?.store ??
    (options.store === "memory" ? createMemoryStore({ now }) : typeof options.store === "object" ? options.store : createKvStore(env.SESSIONS));
  const limits =
    options.limits ??
    backends?.limits ??
    (options.store === undefined || options.store === "kv" ? createBindingLimiters(now) : createMemoryLimiters(now));
  const record = (event: LogEvent, fields: Record<string, unknown> = {}) => void logs.push({ event, ...fields });
  // With metrics, as src/gate.ts builds it: one observer for the app and the cron's key rotation.
  const observer = options.metrics && createObserver({ log: record, store: parsed.config.store.kind, ...options.metrics });
  const log = observer?.log ?? record;
  // Built here, as src/index.ts does, so that `scheduled()` rotates the keys this gate signs with.
  const assertionKeys = createAssertionKeys({ store, secret: parsed.config.secrets.gate, periods: parsed.config.assertion, now, log });
  const app = createApp({
    config: parsed.config,
    store,
    limiterBackend: limits,
    keys: await deriveKeys(parsed.config.secrets.gate),
    now,
    log,
    observer,
    assertionKeys,
  });
  const pending: Promise<unknown>[] = [];
  /** Requests go to the gate's public origin when the test sets one (any other host is misdirected). */
  const base = typeof options.gate?.public_origin === "string" ? options.gate.public_origin : GATE_URL;
  const ctx = {
    waitUntil: (work: Promise<unknown>) => void pending.push(work),
    passThroughOnException() {},
    props: {},
  } as unknown as ExecutionContext;

  /** Sends a request through the gate (a path on GATE_URL, or a whole URL), from 203.0.113.7 unless told otherwise. */
  async function request(path: string, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<Response> {
    const headers = { "CF-Connecting-IP": "203.0.113.7", "User-Agent": CHROME_UA, ...init.headers };
    const url = /^https?:\/\//.test(path) ? path : base + path;
    const response = await app.fetch(new Request(url, { ...init, headers }), gateEnv, ctx);
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

  return {
    request,
    login,
    origin,
    clock,
    logs,
    store,
    config: parsed.config,
    /** With `store: "redis"`: the bridge this gate talks to, and its own request counter. */
    redis,
    /** Runs the cron's assertion key rotation at the clock's time, as src/index.ts `scheduled` does. */
    scheduled: () => assertionKeys.rotate(),
    events: (name: LogEvent) => logs.filter((l) => l.event === name),
  };
}

/**
 * The Upstash REST bridge of test/redis/, under a scope of its own: the bridge
 * counts requests and injects faults per scope, so a gate's round trips are
 * its own (`stats()`, `resetStats()`), and `mode()` breaks only this gate's link.
 */
export function redisBridge(outagePair = false) {
  const url = inject(outagePair ? "redisOutageRestUrl" : "redisRestUrl");
  const scope = crypto.randomUUID();
  const token = `${inject(outagePair ? "redisOutageRestToken" : "redisRestToken")}.${scope}`;
  const control = (path: string, body?: unknown) =>
    fetch(`${url}${path}`, {
      method: body === undefined && path.startsWith("/__stats?") ? "GET" : "POST",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  return {
    url,
    token,
    /** Requests and commands this scope sent to the bridge. */
    stats: async () => (await (await control(`/__stats?scope=${scope}`)).json()) as { requests: number; commands: number },
    resetStats: async () => void (await control(`/__stats/reset?scope=${scope}`, {})).body?.cancel(),
    /** Makes the bridge answer this scope normally, with HTTP 500, with garbage, or not at all. */
    mode: async (mode: "normal" | "http500" | "garbage" | "hang") => void (await control("/__control/mode", { mode, scope })).body?.cancel(),
    /** Really stops or starts the outage pair's redis-server. */
    redisServer: async (action: "stop" | "start") => {
      const response = await control(`/__control/redis/${action}`, {});
      if (!response.ok) throw new Error(`redis ${action}: ${response.status} ${await response.text()}`);
    },
  };
}

/** A recent Chrome on Linux. */
export const CHROME_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.126 Safari/537.36";

/** A `Cookie` header carrying a session token. */
export const cookie = (token: string, name = "__Host-session") => ({ Cookie: `${name}=${token}` });

/** Signs an `X-Gate-Login` as the origin would. */
export async function signLogin(claims: Record<string, unknown>, iat: number, secret = ORIGIN_SECRET, lifetime = 60): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setIssuedAt(iat)
    .setExpirationTime(iat + lifetime)
    .sign(new TextEncoder().encode(secret));
}

/** The session token a response sets, or `undefined`; `""` when it clears the cookie. */
export function tokenFrom(response: Response, name = "__Host-session"): string | undefined {
  for (const line of response.headers.getSetCookie()) {
    if (line.startsWith(`${name}=`)) return line.slice(name.length + 1).split(";")[0];
  }
  return undefined;
}
