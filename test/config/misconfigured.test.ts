import { env } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import worker from "../../src/index";
import { buildGate } from "../../src/gate";
import { parseConfig } from "../../src/config/parse";
import type { Env } from "../../src/config/env";
import { DEFAULT_SECURITY_HEADERS } from "../../src/config/headers";
import { createRecordingOrigin } from "../helpers/origin";

const T0 = Date.UTC(2026, 0, 1);
const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;

/** An environment with three problems, and an origin that records whether anything reached it. */
function badEnv() {
  const origin = createRecordingOrigin();
  const gateEnv: Env = {
    ORIGIN: origin as unknown as Fetcher,
    GATE_SECRET: "too short",
    GATE_ORIGIN_SECRET: env.GATE_ORIGIN_SECRET as string,
    SESSIONS: env.SESSIONS as KVNamespace,
    GATE: { session: { idle_timout: "10m" }, routes: [{ path: "admin/*" }] },
  };
  return { origin, gateEnv };
}

const EXPECTED_PROBLEMS = [
  "GATE_SECRET: expected a secret of at least 32 bytes, got a shorter one",
  `GATE.session.idle_timout: unknown key: did you mean "idle_timeout"? (expected one of idle_timeout, absolute_timeout, rotate_every, rotation_grace, binding, max_per_user, device_bound, device_cookie_ttl)`,
  'GATE.routes[0].path: expected a URLPattern pathname starting with "/" such as "/api/*", got "admin/*"',
];

const REQUESTS: Array<[name: string, request: () => Request]> = [
  ["GET /", () => new Request("https://gate.example/")],
  ["GET of a page", () => new Request("https://gate.example/dashboard", { headers: { Accept: "text/html", "Sec-Fetch-Mode": "navigate" } })],
  [
    "POST with a body",
    () =>
      new Request("https://gate.example/api/items", {
        method: "POST",
        body: '{"a":1}',
        headers: { "Content-Type": "application/json", "Sec-Fetch-Site": "same-origin" },
      }),
  ],
  ["GET /_gate/health", () => new Request("https://gate.example/_gate/health")],
  ["GET /_gate/jwks.json", () => new Request("https://gate.example/_gate/jwks.json")],
  [
    "DELETE of an admin call",
    () =>
      new Request("https://gate.example/_gate/admin/sessions/x", { method: "DELETE", headers: { Authorization: `Bearer ${env.GATE_ADMIN_TOKEN}` } }),
  ],
];

/** The JSON lines written to console.log, parsed. */
const loggedLines = (spy: MockInstance) => spy.mock.calls.map(([line]) => JSON.parse(String(line)) as Record<string, unknown>);

describe("a gate with an invalid configuration", () => {
  let log: MockInstance;
  beforeEach(() => {
    log = vi.spyOn(console, "log").mockImplementation(() => {});
  });
  afterEach(() => {
    log.mockRestore();
  });

  it("has the problems the test expects", () => {
    const parsed = parseConfig(badEnv().gateEnv);
    expect(parsed.ok ? [] : parsed.problems).toEqual(EXPECTED_PROBLEMS);
  });

  it("logs one config.invalid line per problem when built", async () => {
    await buildGate(badEnv().gateEnv, { now: () => T0 });
    expect(loggedLines(log)).toEqual(EXPECTED_PROBLEMS.map((problem) => ({ time: "2026-01-01T00:00:00.000Z", event: "config.invalid", problem })));
  });

  describe("answers 500 misconfigured with the default security headers, and forwards nothing", () => {
    it.each(REQUESTS)("%s", async (name, request) => {
      const { origin, gateEnv } = badEnv();
      const gate = await buildGate(gateEnv, { now: () => T0 });
      log.mockClear();
      const response = await gate.app.fetch(request(), gateEnv, ctx);
      expect(response.status).toBe(500);
      // A navigation gets the same 500 as a readable page (contract §9); every other client the JSON.
      if (name === "GET of a page") expect(await response.text()).toContain("Something went wrong on our side");
      else expect(await response.json()).toEqual({ error: "misconfigured" });
      for (const [name, value] of Object.entries(DEFAULT_SECURITY_HEADERS)) expect(response.headers.get(name)).toBe(value);
      expect(response.headers.get("Set-Cookie")).toBeNull();
      expect(origin.received).toHaveLength(0);
      expect(log).not.toHaveBeenCalled();
    });
  });

  it("logs its problems once per environment through the Worker entry, not once per request", async () => {
    const { origin, gateEnv } = badEnv();
    for (const [, request] of REQUESTS) {
      const response = await worker.fetch(request() as Request<unknown, IncomingRequestCfProperties>, gateEnv, ctx);
      expect(response.status).toBe(500);
    }
    expect(loggedLines(log).map((line) => [line.event, line.problem])).toEqual(EXPECTED_PROBLEMS.map((problem) => ["config.invalid", problem]));
    expect(origin.received).toHaveLength(0);
  });

  it("refuses everything when only one secret is missing", async () => {
    const { origin, gateEnv } = badEnv();
    const gate = await buildGate(
      { ...gateEnv, GATE_SECRET: env.GATE_SECRET as string, GATE: undefined, GATE_ORIGIN_SECRET: undefined },
      { now: () => T0 },
    );
    expect(loggedLines(log).map((line) => line.problem)).toEqual([
      "GATE_ORIGIN_SECRET: expected a secret of at least 32 bytes (wrangler secret put GATE_ORIGIN_SECRET, or .dev.vars)",
    ]);
    const response = await gate.app.fetch(new Request("https://gate.example/public"), gateEnv, ctx);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: "misconfigured" });
    expect(origin.received).toHaveLength(0);
  });
});
