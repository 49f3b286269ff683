import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { cookie, createTestGate } from "../helpers/gate";
import { createKvStore } from "../../src/store/kv";
import type { SessionStore } from "../../src/store/types";

type Gate = Awaited<ReturnType<typeof createTestGate>>;

const KIB = 1_024;
/** What gate.request() sends besides the test's own headers (CF-Connecting-IP, User-Agent). */
const BASELINE = [
  "cf-connecting-ip",
  "203.0.113.7",
  "user-agent",
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.126 Safari/537.36",
].join("").length;

/** A gate with a live session over a store that counts look-ups. */
async function counted() {
  let lookups = 0;
  const real = createKvStore(env.SESSIONS as KVNamespace);
  const store: SessionStore = { ...real, lookup: (hash) => (lookups++, real.lookup(hash)) };
  const gate = await createTestGate({ store });
  const token = await gate.login("limits-alice", ["user"]);
  gate.origin.received.splice(0);
  lookups = 0;
  return { gate, token, lookups: () => lookups };
}

/** Asserts the refusal, generic JSON, nothing forwarded, and the reason in the log. */
async function expectRefused(gate: Gate, response: Response, status: number, reason: string) {
  expect(response.status).toBe(status);
  expect(await response.json()).toEqual({ error: status === 431 ? "request_header_fields_too_large" : "bad_request" });
  expect(gate.origin.received).toEqual([]);
  expect(gate.events("request.rejected").at(-1)).toMatchObject({ reason });
}

describe("oversized headers get 431 before anything reads them", () => {
  it("refuses a Cookie header over 16 KiB, with the live token in it, without a store look-up", async () => {
    const { gate, token, lookups } = await counted();
    const response = await gate.request("/dashboard", { headers: { Cookie: `big=${"x".repeat(16 * KIB)}; __Host-session=${token}` } });
    await expectRefused(gate, response, 431, "header_too_large");
    expect(gate.events("request.rejected").at(-1)).toMatchObject({ header: "cookie" });
    expect(lookups()).toBe(0);
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it("accepts a header of exactly 16 KiB, name and value", async () => {
    const gate = await createTestGate();
    const value = "y".repeat(16 * KIB - "x-big".length);
    const response = await gate.request("/public/page", { headers: { "X-Big": value } });
    expect(response.status).toBe(200);
    expect(gate.origin.last().headers["x-big"]).toBe(value);
    const over = await gate.request("/public/page", { headers: { "X-Big": `${value}y` } });
    gate.origin.received.splice(0, 1);
    await expectRefused(gate, over, 431, "header_too_large");
  });

  it("counts bytes, not characters", async () => {
    const gate = await createTestGate();
    const response = await gate.request("/public/page", { headers: { "X-Name": "\xe9".repeat(8 * KIB + 1) } });
    await expectRefused(gate, response, 431, "header_too_large");
  });

  it("accepts exactly 32 KiB of headers together and refuses one byte more, each header under its limit", async () => {
    const gate = await createTestGate();
    const fill = (n: number) => "z".repeat(n);
    const rest = 32 * KIB - 2 * (3 + 15 * KIB) - 3 - BASELINE;
    const at = await gate.request("/public/page", { headers: { "X-A": fill(15 * KIB), "X-B": fill(15 * KIB), "X-C": fill(rest) } });
    expect(at.status).toBe(200);
    gate.origin.received.splice(0);
    const over = await gate.request("/public/page", { headers: { "X-A": fill(15 * KIB), "X-B": fill(15 * KIB), "X-C": fill(rest + 1) } });
    await expectRefused(gate, over, 431, "headers_too_large");
  });

  it("answers a huge Authorization header with 431, never 500", async () => {
    const gate = await createTestGate();
    await expectRefused(
      gate,
      await gate.request("/dashboard", { headers: { Authorization: `Bearer ${"A".repeat(64 * KIB)}` } }),
      431,
      "header_too_large",
    );
  });
});

describe("header names that are not HTTP tokens", () => {
  // workerd accepts these names; an origin folding Unicode could read them as x-gate-user.
  it.each(["x-gate-u\u017fer", "\uff58-gate-user", "x\uff0dgate-user", "x-gate-user\u200b", "x-\u0261ate-user", "caf\xe9"])(
    "refuses %j with 400",
    async (name) => {
      const { gate, token } = await counted();
      await expectRefused(gate, await gate.request("/public/page", { headers: { ...cookie(token), [name]: "root" } }), 400, "invalid_header_name");
    },
  );
});

describe("methods", () => {
  it("answers TRACE with 405 and an Allow header, in any case, and forwards nothing", async () => {
    const gate = await createTestGate();
    for (const method of ["TRACE", "trace", "Trace"]) {
      const response = await gate.request("/public/page", { method });
      expect(response.status).toBe(405);
      expect(await response.json()).toEqual({ error: "method_not_allowed" });
      expect(response.headers.get("Allow")).toBe("GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
    }
    expect(gate.origin.received).toEqual([]);
  });

  it("cannot even build TRACK or CONNECT requests in workerd (the gate's 405 for them is in security-headers.test.ts)", () => {
    for (const method of ["TRACK", "track", "CONNECT", "connect"]) {
      expect(() => new Request("https://gate.example/", { method }), method).toThrow(TypeError);
    }
  });

  it("gives HEAD the policy of GET: refused without a session, forwarded with one", async () => {
    const gate = await createTestGate();
    const token = await gate.login("head-alice", ["user"]);
    gate.origin.received.splice(0);
    expect((await gate.request("/dashboard", { method: "HEAD" })).status).toBe(401);
    expect((await gate.request("/admin/x", { method: "HEAD", headers: cookie(token) })).status).toBe(403);
    expect(gate.origin.received).toEqual([]);
    const response = await gate.request("/read-only/x", { method: "HEAD", headers: cookie(token) });
    expect(response.status).toBe(200);
    expect(gate.origin.last().method).toBe("HEAD");
  });
});
