import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { TEST_POLICY, cookie, createTestGate } from "../helpers/gate";
import { createRecordingOrigin } from "../helpers/origin";
import { buildGate } from "../../src/gate";
import type { Env } from "../../src/config/env";
import { createKvStore } from "../../src/store/kv";
import { StoreUnavailableError, type SessionStore } from "../../src/store/types";

/** Contract §5, verbatim: every response carries these unless configured otherwise. */
const CONTRACT_DEFAULTS: Record<string, string> = {
  "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "strict-origin-when-cross-origin",
  "Content-Security-Policy": "object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  "Cross-Origin-Opener-Policy": "same-origin",
  "X-XSS-Protection": "0",
};
const DISCLOSING = ["Server", "X-Powered-By", "X-AspNet-Version", "X-AspNetMvc-Version"];
const JSON_ACCEPT = { Accept: "application/json" };
const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
const kv = env.SESSIONS as KVNamespace;

/** Every default header with its exact value, and nothing that names the software behind the gate. */
function expectHardened(response: Response, label: string): void {
  for (const [name, value] of Object.entries(CONTRACT_DEFAULTS)) expect(response.headers.get(name), `${label}: ${name}`).toBe(value);
  for (const name of DISCLOSING) expect(response.headers.get(name), `${label}: ${name}`).toBeNull();
  for (const name of response.headers.keys()) expect(name, label).not.toMatch(/^x[-_]gate[-_]/i);
}

/** A gate whose store fails every look-up with `error`. */
function failingStore(error: Error): SessionStore {
  return { ...createKvStore(kv), lookup: () => Promise.reject(error) };
}

/** The gate built by the Worker entry, for requests workerd will not let a test construct (TRACK, CONNECT). */
async function entryGate(gate: Record<string, unknown> | undefined) {
  const origin = createRecordingOrigin();
  const gateEnv = { ...env, ORIGIN: origin as unknown as Fetcher, GATE: gate } as Env;
  const built = await buildGate(gateEnv, { now: () => Date.UTC(2026, 0, 1) });
  return { origin, send: (request: Request) => Promise.resolve(built.app.fetch(request, gateEnv, ctx)) };
}

/** A request whose method reads as `method`: `new Request()` throws for TRACK and CONNECT in workerd. */
function withMethod(method: string, url: string): Request {
  const request = new Request(url);
  return new Proxy(request, {
    get(target, key) {
      if (key === "method") return method;
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

describe("the gate's own error responses", () => {
  it("carry every default security header, exactly, on every status the gate generates, and no Server or X-Powered-By", async () => {
    const gate = await createTestGate();
    const user = cookie(await gate.login("walker", ["user"]));
    const admin = cookie(await gate.login("walker-admin", ["admin"]));
    gate.clock.advance(11 * 60_000); // the admin's login is now older than /admin/*'s `fresh`
    const limited = await createTestGate({
      store: "memory",
      gate: { rate_limits: { default: { limit: 1, period: "1m", key: "ip" } } },
      env: { SESSION_STORE: "redis", UPSTASH_REDIS_REST_URL: "http://127.0.0.1:1", UPSTASH_REDIS_REST_TOKEN: "unused" },
    });
    await limited.request("/public/x");
    const down = await createTestGate({ store: failingStore(new StoreUnavailableError("kv", "lookup", new Error("store unreachable"))) });
    const broken = await createTestGate({ store: failingStore(new Error("a bug")) });
    const unreachable = await createTestGate();
    unreachable.origin.reply(() => {
      throw new TypeError("Network connection lost.");
    });
    const quiet = vi.spyOn(console, "log").mockImplementation(() => {}); // the entry's logger writes to the console
    const entry = await entryGate(TEST_POLICY);
    const misconfigured = await entryGate({ routes: [{ path: "no-slash" }] });
    for (const setUp of [gate, limited]) setUp.origin.received.splice(0);
    const someToken = cookie("T".repeat(43));

    const cases: Array<[label: string, status: number, code: string, send: () => Promise<Response>]> = [
      ["an encoded slash", 400, "bad_request", () => gate.request("/public/a%2Fb", { headers: JSON_ACCEPT })],
      ["a header name that is not a token", 400, "bad_request", () => gate.request("/public/x", { headers: { "x-gate-u\u017fer": "root" } })],
      ["no session", 401, "unauthenticated", () => gate.request("/dashboard", { headers: JSON_ACCEPT })],
      ["a stale login", 401, "reauthentication_required", () => gate.request("/admin/panel", { headers: { ...admin, ...JSON_ACCEPT } })],
      ["a cross-site POST", 403, "csrf", () => gate.request("/dashboard", { method: "POST", headers: { ...user, "Sec-Fetch-Site": "cross-site" } })],
      ["a missing role", 403, "forbidden", () => gate.request("/admin/panel", { headers: { ...user, ...JSON_ACCEPT } })],
      ["a deny route", 404, "not_found", () => gate.request("/deny/x", { headers: JSON_ACCEPT })],
      ["an unknown /_gate/ path", 404, "not_found", () => gate.request("/_gate/nothing-here", { headers: JSON_ACCEPT })],
      ["TRACE", 405, "method_not_allowed", () => gate.request("/public/x", { method: "TRACE" })],
      ["TRACK", 405, "method_not_allowed", () => entry.send(withMethod("TRACK", "https://gate.example/public/x"))],
      ["CONNECT", 405, "method_not_allowed", () => entry.send(withMethod("CONNECT", "https://gate.example/public/x"))],
      ["the rate limit", 429, "rate_limited", () => limited.request("/public/x")],
      [
        "a 17 KiB Cookie header",
        431,
        "request_header_fields_too_large",
        () => gate.request("/public/x", { headers: { Cookie: `big=${"x".repeat(17_000)}` } }),
      ],
      ["a bug", 500, "internal_error", () => broken.request("/dashboard", { headers: { ...someToken, ...JSON_ACCEPT } })],
      ["an invalid configuration", 500, "misconfigured", () => misconfigured.send(new Request("https://gate.example/dashboard"))],
      ["an unreachable origin", 502, "bad_gateway", () => unreachable.request("/public/x")],
      ["an unreachable store", 503, "unavailable", () => down.request("/dashboard", { headers: { ...someToken, ...JSON_ACCEPT } })],
    ];

    for (const [label, status, code, send] of cases) {
      const response = await send();
      expect(response.status, label).toBe(status);
      expect(response.headers.get("Content-Type"), label).toMatch(/^application\/json/);
      expect(await response.json(), label).toEqual({ error: code });
      expect(response.headers.get("Cache-Control"), label).toMatch(/no-store/);
      expectHardened(response, label);
    }
    quiet.mockRestore();
    expect(new Set(cases.map(([, status]) => status))).toEqual(new Set([400, 401, 403, 404, 405, 429, 431, 500, 502, 503]));
    for (const refusing of [gate, limited, down, broken, entry, misconfigured]) expect(refusing.origin.received).toEqual([]);
  });
});

describe("every other response", () => {
  it("carries the defaults too: forwarded, redirected, the gate's endpoints, the origin's own errors", async () => {
    const gate = await createTestGate();
    const token = await gate.login("decorated", ["user"]);
    gate.origin.reply((request) =>
      request.url.endsWith("/not-modified")
        ? new Response(null, { status: 304, headers: { Server: "nginx/1.25.3", ETag: '"v1"' } })
        : new Response("oops", { status: 500, headers: { Server: "Apache/2.4.1", "X-Powered-By": "PHP/8.3", "X-AspNet-Version": "4.0.30319" } }),
    );
    const cases: Array<[label: string, status: number, send: () => Promise<Response>]> = [
      ["the origin's 304", 304, () => gate.request("/public/not-modified", { headers: cookie(token) })],
      ["the origin's 500", 500, () => gate.request("/public/error")],
      ["a login redirect", 302, () => gate.request("/dashboard", { headers: { Accept: "text/html" } })],
      ["GET /_gate/session", 200, () => gate.request("/_gate/session", { headers: cookie(token) })],
      ["GET /_gate/health", 200, () => gate.request("/_gate/health")],
      ["HEAD of a session route", 401, () => gate.request("/dashboard", { method: "HEAD" })],
      [
        "POST /_gate/logout",
        204,
        () => gate.request("/_gate/logout", { method: "POST", headers: { ...cookie(token), "Sec-Fetch-Site": "same-origin" } }),
      ],
    ];
    for (const [label, status, send] of cases) {
      const response = await send();
      expect(response.status, label).toBe(status);
      expectHardened(response, label);
    }
  });
});

describe("configuring the security headers (GATE.security_headers)", () => {
  /** A gate whose origin answers /public/* with `headers`. */
  async function gateWith(securityHeaders: Record<string, unknown> | undefined, headers: Record<string, string> = {}) {
    const gate = await createTestGate({ gate: { security_headers: securityHeaders } });
    gate.origin.reply(() => new Response("ok", { headers }));
    return gate;
  }

  it("lets the origin's own value win by default, header by header", async () => {
    const gate = await gateWith(undefined, { "X-Frame-Options": "SAMEORIGIN", "Content-Security-Policy": "default-src 'self'" });
    const response = await gate.request("/public/page");
    expect(response.headers.get("X-Frame-Options")).toBe("SAMEORIGIN");
    expect(response.headers.get("Content-Security-Policy")).toBe("default-src 'self'");
    expect(response.headers.get("Referrer-Policy")).toBe(CONTRACT_DEFAULTS["Referrer-Policy"]);
  });

  it("does not count a blank origin value as the origin's own", async () => {
    const gate = await gateWith(undefined, { "Content-Security-Policy": " ", "X-Frame-Options": "" });
    const response = await gate.request("/public/page");
    expect(response.headers.get("Content-Security-Policy")).toBe(CONTRACT_DEFAULTS["Content-Security-Policy"]);
    expect(response.headers.get("X-Frame-Options")).toBe("DENY");
  });

  it("replaces the origin's value with the gate's where origin_wins = false", async () => {
    const gate = await gateWith(
      { "Content-Security-Policy": { value: "default-src 'none'", origin_wins: false }, "Referrer-Policy": { origin_wins: false } },
      { "Content-Security-Policy": "default-src *", "Referrer-Policy": "unsafe-url", "X-Frame-Options": "SAMEORIGIN" },
    );
    const response = await gate.request("/public/page");
    expect(response.headers.get("Content-Security-Policy")).toBe("default-src 'none'");
    expect(response.headers.get("Referrer-Policy")).toBe("strict-origin-when-cross-origin");
    expect(response.headers.get("X-Frame-Options")).toBe("SAMEORIGIN");
  });

  it("switches a header off: absent from the gate's responses, the origin's own passes untouched", async () => {
    const gate = await gateWith({ "X-Frame-Options": false, "X-XSS-Protection": { value: false } });
    const own = await gate.request("/dashboard", { headers: JSON_ACCEPT });
    expect(own.status).toBe(401);
    expect(own.headers.get("X-Frame-Options")).toBeNull();
    expect(own.headers.get("X-XSS-Protection")).toBeNull();
    expect(own.headers.get("X-Content-Type-Options")).toBe("nosniff");
    gate.origin.reply(() => new Response("ok", { headers: { "X-Frame-Options": "SAMEORIGIN" } }));
    expect((await gate.request("/public/page")).headers.get("X-Frame-Options")).toBe("SAMEORIGIN");
  });

  it("sets a changed value, and adds a header the contract does not list, on errors too; names in any case", async () => {
    const gate = await gateWith({ "strict-transport-security": "max-age=300", "Permissions-Policy": "camera=(), microphone=()" });
    for (const response of [await gate.request("/public/page"), await gate.request("/deny/x")]) {
      expect(response.headers.get("Strict-Transport-Security")).toBe("max-age=300");
      expect(response.headers.get("Permissions-Policy")).toBe("camera=(), microphone=()");
    }
  });
});
