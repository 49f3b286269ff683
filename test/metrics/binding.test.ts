// GATE_METRICS through the Worker's own build (src/gate.ts): the real binding miniflare simulates,
// writes after the response, nothing at all without it, and a misdeclared one refused.
import { env } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Env } from "../../src/config/env";
import { buildGate } from "../../src/gate";
import { T0, TEST_POLICY, cookie, createTestGate, tokenFrom } from "../helpers/gate";
import { createRecordingOrigin } from "../helpers/origin";
import { createRecordingDataset } from "./recording";

/** An execution context that keeps what was handed to waitUntil. */
function recordingContext() {
  const pending: Promise<unknown>[] = [];
  const ctx = {
    waitUntil: (work: Promise<unknown>) => void pending.push(work),
    passThroughOnException() {},
    props: {},
  } as unknown as ExecutionContext;
  return { ctx, pending };
}

/** The gate as the Worker builds it, over `metrics` as GATE_METRICS (absent when undefined). */
async function entryGate(metrics: unknown) {
  const origin = createRecordingOrigin();
  const { GATE_METRICS: _, ...rest } = env;
  const gateEnv = {
    ...rest,
    ORIGIN: origin as unknown as Fetcher,
    GATE: TEST_POLICY,
    ...(metrics !== undefined && { GATE_METRICS: metrics }),
  } as Env;
  const lines: string[] = [];
  const built = await buildGate(gateEnv, { now: () => T0, log: (line) => void lines.push(line) });
  return { origin, lines, fetch: (request: Request, ctx: ExecutionContext) => Promise.resolve(built.app.fetch(request, gateEnv, ctx)) };
}

const page = () => new Request("https://gate.example/public/page", { headers: { "CF-Connecting-IP": "203.0.113.9" } });

describe("GATE_METRICS as the Worker builds it", () => {
  it("takes the real Analytics Engine binding of wrangler.toml", async () => {
    const gate = await entryGate(env.GATE_METRICS);
    const { ctx, pending } = recordingContext();
    expect((await gate.fetch(page(), ctx)).status).toBe(200);
    expect(pending).toHaveLength(1);
    await Promise.all(pending);
  });

  it("writes through the work it hands to waitUntil, once the response is final", async () => {
    const metrics = createRecordingDataset();
    const gate = await entryGate(metrics.dataset);
    const { ctx, pending } = recordingContext();
    const response = await gate.fetch(page(), ctx);
    expect(response.status).toBe(200);
    expect(pending).toHaveLength(1);
    await Promise.all(pending);
    expect(metrics.events("request")).toEqual([expect.objectContaining({ route: "/public/*", status: "2xx" })]);
  });

  it("without it, hands nothing to waitUntil and starts no timer", async () => {
    const gate = await entryGate(undefined);
    const { ctx, pending } = recordingContext();
    const timers = vi.spyOn(globalThis, "setTimeout");
    try {
      expect((await gate.fetch(page(), ctx)).status).toBe(200);
      expect(pending).toEqual([]);
      expect(timers).not.toHaveBeenCalled();
    } finally {
      timers.mockRestore();
    }
  });

  it("refuses a GATE_METRICS that is not a dataset, as any other configuration problem: 500 misconfigured", async () => {
    const gate = await entryGate("true");
    const response = await gate.fetch(page(), recordingContext().ctx);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: "misconfigured" });
    expect(gate.lines.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({
        event: "config.invalid",
        problem: expect.stringMatching(/^GATE_METRICS: expected an Analytics Engine dataset binding/),
      }),
    ]);
  });
});

/** What differs between two runs of one visit: ids, tokens, signatures, times. */
const VARYING = /^(sid|x-gate-session|x-gate-assertion|x-request-id|store_rtt_ms|[a-z_]+_at)$/;

/** A body with the values that vary between two runs replaced by their type. */
function shape(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return text;
  }
  const walk = (node: unknown): unknown =>
    typeof node === "object" && node !== null
      ? Object.fromEntries(Object.entries(node).map(([key, item]) => [key, VARYING.test(key) ? typeof item : walk(item)]))
      : node;
  return walk(value);
}

describe("without GATE_METRICS the gate behaves exactly as before", () => {
  let metrics: ReturnType<typeof createRecordingDataset>;
  beforeEach(() => void (metrics = createRecordingDataset()));
  afterEach(() => void (metrics.written.length = 0));

  /** What a client and the log see of a scripted visit: statuses, header names, bodies without ids and times, log lines. */
  async function visit(gate: Awaited<ReturnType<typeof createTestGate>>) {
    const seen: unknown[] = [];
    const see = async (response: Response) => {
      seen.push([response.status, [...response.headers.keys()].sort(), shape(await response.text())]);
      return response;
    };
    const token = await gate.login("alice", ["user"]);
    await see(await gate.request("/page", { headers: cookie(token) }));
    await see(await gate.request("/admin/x", { headers: cookie(token) }));
    await see(await gate.request("/page", { headers: cookie("z".repeat(43)) }));
    await see(await gate.request("/page", { method: "POST", headers: { ...cookie(token), "Sec-Fetch-Site": "cross-site" } }));
    await see(await gate.request("/_gate/health"));
    await see(await gate.request("/_gate/session", { headers: cookie(token) }));
    gate.clock.advance(16 * 60_000);
    const rotated = await see(await gate.request("/page", { headers: cookie(token) }));
    expect(tokenFrom(rotated)).toBeTruthy();
    const lines = gate.logs.map(({ event, ...fields }) => [event, Object.keys(fields).sort()]);
    return { seen, lines };
  }

  it("same responses, same log lines; with it, the same again plus data points", async () => {
    const without = await visit(await createTestGate());
    const withMetrics = await visit(await createTestGate({ metrics: { dataset: metrics.dataset } }));
    expect(withMetrics).toEqual(without);
    expect(metrics.events("request")).toHaveLength(8);
  });
});
