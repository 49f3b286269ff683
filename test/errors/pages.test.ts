// Contract §9: a navigation the gate refuses gets a page a person can read, with the
// very status and headers an API client gets with its JSON (§5). Nothing reaches the origin.
import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { buildGate } from "../../src/gate";
import type { Env } from "../../src/config/env";
import type { ErrorCode } from "../../src/errors";
import { createKvStore } from "../../src/store/kv";
import { type SessionStore, StoreUnavailableError } from "../../src/store/types";
import { cookie, createTestGate } from "../helpers/gate";
import { createRecordingOrigin } from "../helpers/origin";

type Gate = Awaited<ReturnType<typeof createTestGate>>;
type Send = (headers: Record<string, string>) => Promise<Response>;

/** What Chromium sends when a person opens a page. */
const NAVIGATION = {
  Accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
  "Sec-Fetch-Mode": "navigate",
  "Sec-Fetch-Dest": "document",
};
/** What a script's fetch() sends to an API. */
const API = { Accept: "application/json", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty" };
const SOME_TOKEN = cookie("T".repeat(43));

/** A store whose every look-up fails with `error`. */
const failingStore = (error: Error): SessionStore => ({ ...createKvStore(env.SESSIONS as KVNamespace), lookup: () => Promise.reject(error) });

/** A gate and a request that it refuses with `code`; `send` adds the client's own headers. */
const SCENARIOS: Array<[code: ErrorCode, status: number, setUp: () => Promise<{ gate: Gate; send: Send }>]> = [
  [
    "unauthenticated",
    401,
    async () => {
      const gate = await createTestGate();
      return { gate, send: (h) => gate.request("/_gate/admin/users/alice/sessions", { headers: h }) };
    },
  ],
  [
    "forbidden",
    403,
    async () => {
      const gate = await createTestGate();
      const user = cookie(await gate.login("walker", ["user"]));
      return { gate, send: (h) => gate.request("/admin/settings", { headers: { ...user, ...h } }) };
    },
  ],
  [
    "csrf",
    403,
    async () => {
      const gate = await createTestGate();
      const user = cookie(await gate.login("walker", ["user"]));
      return { gate, send: (h) => gate.request("/dashboard", { method: "POST", headers: { ...user, "Sec-Fetch-Site": "cross-site", ...h } }) };
    },
  ],
  [
    "rate_limited",
    429,
    async () => {
      const gate = await createTestGate({ store: "memory", gate: { rate_limits: { default: { limit: 1, period: "1m", key: "ip" } } } });
      await gate.request("/public/x");
      return { gate, send: (h) => gate.request("/public/x", { headers: h }) };
    },
  ],
  [
    "unavailable",
    503,
    async () => {
      const gate = await createTestGate({ store: failingStore(new StoreUnavailableError("kv", "lookup", new Error("store unreachable"))) });
      return { gate, send: (h) => gate.request("/dashboard", { headers: { ...SOME_TOKEN, ...h } }) };
    },
  ],
  [
    "bad_request",
    400,
    async () => {
      const gate = await createTestGate();
      return { gate, send: (h) => gate.request("/public/a%2Fb", { headers: h }) };
    },
  ],
  [
    "not_found",
    404,
    async () => {
      const gate = await createTestGate();
      return { gate, send: (h) => gate.request("/deny/x", { headers: h }) };
    },
  ],
  [
    "method_not_allowed",
    405,
    async () => {
      const gate = await createTestGate();
      return { gate, send: (h) => gate.request("/public/x", { method: "TRACE", headers: h }) };
    },
  ],
  [
    "request_header_fields_too_large",
    431,
    async () => {
      const gate = await createTestGate();
      return { gate, send: (h) => gate.request("/public/x", { headers: { "X-Big": "a".repeat(17 * 1024), ...h } }) };
    },
  ],
  [
    "misdirected_request",
    421,
    async () => {
      const gate = await createTestGate({ gate: { public_origin: "https://app.example" } });
      return { gate, send: (h) => gate.request("https://elsewhere.example/public/x", { headers: h }) };
    },
  ],
  [
    "bad_gateway",
    502,
    async () => {
      const gate = await createTestGate();
      gate.origin.reply(() => {
        throw new TypeError("Network connection lost.");
      });
      return { gate, send: (h) => gate.request("/public/x", { headers: h }) };
    },
  ],
  [
    "internal_error",
    500,
    async () => {
      const gate = await createTestGate({ store: failingStore(new Error("a bug")) });
      return { gate, send: (h) => gate.request("/dashboard", { headers: { ...SOME_TOKEN, ...h } }) };
    },
  ],
];

/** Every header but the two that must differ: the body's type, and the request's own id. */
function comparable(response: Response): Record<string, string> {
  const headers = Object.fromEntries(response.headers);
  delete headers["content-type"];
  delete headers["x-request-id"];
  return headers;
}

/** The request id printed on a page. */
const printedId = (html: string) => /<code id="request-id">([^<]*)<\/code>/.exec(html)?.[1];

describe("a navigation the gate refuses gets an HTML page", () => {
  it.each(SCENARIOS)("%s (%i): same status and headers as the JSON, no-store, the request id, nothing forwarded", async (code, status, setUp) => {
    const { gate, send } = await setUp();
    gate.origin.received.splice(0);
    const forwarded = code === "bad_gateway" ? 2 : 0; // the proxy tried, once for each request; nothing else was asked
    const json = await send(API);
    const page = await send(NAVIGATION);
    expect(json.status).toBe(status);
    expect(await json.json()).toEqual({ error: code });
    expect(page.status).toBe(status);
    expect(page.headers.get("Content-Type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("Cache-Control")).toBe("no-store");
    expect(comparable(page)).toEqual(comparable(json));
    const html = await page.text();
    expect(html).toMatch(/^<!doctype html>/);
    expect(printedId(html)).toBe(page.headers.get("X-Request-Id"));
    expect(page.headers.get("X-Request-Id")).toMatch(/\S{8,}/);
    expect(html).not.toMatch(/<script|<link rel="stylesheet"|src=|https?:\/\//i);
    expect(html).not.toContain('"error"');
    if (code.includes("_")) expect(html).not.toContain(code); // plain words, not the API's codes
    expect(gate.origin.received).toHaveLength(forwarded);
  });

  it("covers every status of the gate's errors", () => {
    expect(new Set(SCENARIOS.map(([, status]) => status))).toEqual(new Set([400, 401, 403, 404, 405, 421, 429, 431, 500, 502, 503]));
  });

  it("keeps Retry-After and the RateLimit fields on the 429 page, and states the seconds", async () => {
    const [, , setUp] = SCENARIOS.find(([code]) => code === "rate_limited") ?? [];
    const { send } = await (setUp as () => Promise<{ send: Send }>)();
    const page = await send(NAVIGATION);
    const seconds = page.headers.get("Retry-After");
    expect(seconds).toMatch(/^\d+$/);
    for (const name of ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"]) expect(page.headers.get(name)).not.toBeNull();
    const html = await page.text();
    expect(html).toContain("<h1>Too many requests</h1>");
    expect(html).toContain(`Please wait ${seconds} seconds, then try again.`);
  });

  it("keeps Allow on the 405 page and WWW-Authenticate on the 401 page", async () => {
    const byCode = new Map(SCENARIOS.map(([code, , setUp]) => [code, setUp]));
    const refused = await (await byCode.get("method_not_allowed")?.())?.send(NAVIGATION);
    expect(refused?.headers.get("Allow")).toBe("GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
    const admin = await (await byCode.get("unauthenticated")?.())?.send(NAVIGATION);
    expect(admin?.headers.get("WWW-Authenticate")).toMatch(/^Bearer /);
    expect(await admin?.text()).toContain('<a href="/login">Log in</a>');
  });

  it("tells a store outage to try again in the Retry-After seconds, and clears no cookie", async () => {
    const [, , setUp] = SCENARIOS.find(([code]) => code === "unavailable") ?? [];
    const { send } = await (setUp as () => Promise<{ send: Send }>)();
    const page = await send(NAVIGATION);
    expect(page.headers.get("Retry-After")).toBe("5");
    expect(page.headers.get("Set-Cookie")).toBeNull();
    expect(await page.text()).toContain("Please try again in 5 seconds.");
  });

  it("counts a GET accepting text/html as a navigation, but not a POST without Sec-Fetch-Mode", async () => {
    const gate = await createTestGate();
    const get = await gate.request("/deny/x", { headers: { Accept: "text/html" } });
    expect(get.headers.get("Content-Type")).toMatch(/^text\/html/);
    const post = await gate.request("/deny/x", { method: "POST", headers: { Accept: "text/html", "Sec-Fetch-Site": "same-origin" } });
    expect(await post.json()).toEqual({ error: "not_found" });
  });

  it("gives the misconfigured gate's navigations a page too, and API clients the JSON", async () => {
    const origin = createRecordingOrigin();
    const gateEnv = { ...env, ORIGIN: origin as unknown as Fetcher, GATE: { routes: [{ path: "no-slash" }] } } as Env;
    const quiet = vi.spyOn(console, "log").mockImplementation(() => {});
    const built = await buildGate(gateEnv, { now: () => Date.UTC(2026, 0, 1) });
    quiet.mockRestore();
    const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
    const send = (headers: Record<string, string>) =>
      Promise.resolve(built.app.fetch(new Request("https://gate.example/dashboard", { headers }), gateEnv, ctx));
    const page = await send(NAVIGATION);
    const json = await send(API);
    expect(page.status).toBe(500);
    expect(comparable(page)).toEqual(comparable(json));
    const html = await page.text();
    expect(html).toContain("<h1>Something went wrong on our side</h1>");
    expect(html).not.toContain("<a href"); // no config, so no login page to link to
    expect(printedId(html)).toBe(page.headers.get("X-Request-Id"));
    expect(await json.json()).toEqual({ error: "misconfigured" });
    expect(origin.received).toHaveLength(0);
  });
});
