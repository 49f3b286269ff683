// Contract §9: with GATE.error_page, the origin renders the gate's errors for navigations;
// the gate keeps its own status and headers, and falls back to its page when the origin fails.
import { afterEach, describe, expect, it, vi } from "vitest";
import { cookie, createTestGate } from "../helpers/gate";
import type { Received, Reply } from "../helpers/origin";

const ERROR_PAGE = "/errors/gate";
const NAVIGATION = { Accept: "text/html", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document" };
const API = { Accept: "application/json", "Sec-Fetch-Mode": "cors" };
const CUSTOM = "<!doctype html><title>Oops</title><h1>Our own error page</h1>";
/** The page's text as a browser reads it (the page escapes apostrophes). */
const decoded = async (response: Response) => (await response.text()).replaceAll("&#39;", "'");
const html = (body: string, status = 200, type = "text/html; charset=utf-8") => new Response(body, { status, headers: { "Content-Type": type } });

type Gate = Awaited<ReturnType<typeof createTestGate>>;

/** Makes the origin answer error_page with `page`, and echo everything else. */
const serve = (gate: Gate, page: Reply) =>
  gate.origin.reply((request, seen) => (seen.path === ERROR_PAGE ? page(request, seen) : Response.json(seen)));

/** A gate with error_page whose origin answers that path with `page`. */
async function gateWithErrorPage(page: Reply, options: Parameters<typeof createTestGate>[0] = {}) {
  const gate = await createTestGate({ ...options, gate: { error_page: ERROR_PAGE, ...options.gate } });
  serve(gate, page);
  return Object.assign(gate, { page });
}

/** A non-admin's navigation to /admin/: 403 forbidden, with the user's cookies and credentials that must not leak. */
async function forbidden(gate: Gate & { page: Reply }, headers: Record<string, string> = NAVIGATION): Promise<Response> {
  const user = cookie(await gate.login("walker", ["user"]));
  serve(gate, gate.page); // login() set the origin's reply back to the echo
  gate.origin.received.splice(0);
  return gate.request("/admin/settings?tab=keys", {
    headers: { ...user, Cookie: `${user.Cookie}; theme=dark`, Authorization: "Basic d2Fsa2VyOnB3", ...headers },
  });
}

const pageAsks = (gate: Gate) => gate.origin.received.filter((seen) => seen.path === ERROR_PAGE);

describe("GATE.error_page", () => {
  afterEach(() => void vi.useRealTimers());

  it("uses the origin's page with the gate's status and headers, asked with only X-Gate-Error, X-Gate-Status and X-Request-Id", async () => {
    const gate = await gateWithErrorPage(
      () =>
        new Response(CUSTOM, {
          headers: {
            "Content-Type": "text/html; charset=utf-8",
            "Set-Cookie": "tracker=1",
            "Cache-Control": "max-age=600",
            "X-Frame-Options": "ALLOWALL",
          },
        }),
    );
    const json = await forbidden(gate, API);
    const response = await forbidden(gate);
    expect(response.status).toBe(403);
    expect(await response.text()).toBe(CUSTOM);
    expect(response.headers.get("Content-Type")).toBe("text/html; charset=utf-8");
    const headers = (r: Response) => Object.fromEntries([...r.headers].filter(([name]) => name !== "content-type" && name !== "x-request-id"));
    expect(headers(response)).toEqual(headers(json)); // nothing of the origin's headers: no Set-Cookie, no max-age, no framing
    const [asked] = pageAsks(gate);
    expect(pageAsks(gate)).toHaveLength(1);
    expect(asked.method).toBe("GET");
    expect(asked.headers).toEqual({
      accept: "text/html",
      "x-gate-error": "forbidden",
      "x-gate-status": "403",
      "x-request-id": response.headers.get("X-Request-Id"),
    });
    expect(asked.url).toBe(`https://gate.example${ERROR_PAGE}`); // no query of the user's either
    expect(gate.origin.received).toHaveLength(1); // and the refused request itself was not forwarded
  });

  it("asks for every code a navigation can get, with its status", async () => {
    const gate = await gateWithErrorPage(() => html(CUSTOM), {
      store: "memory",
      gate: { rate_limits: { default: { limit: 1, period: "1m", key: "ip" } } },
    });
    await gate.request("/public/x");
    const limited = await gate.request("/public/x", { headers: NAVIGATION });
    expect(limited.status).toBe(429);
    expect(await limited.text()).toBe(CUSTOM);
    expect(limited.headers.get("Retry-After")).toMatch(/^\d+$/);
    expect(pageAsks(gate).at(-1)?.headers).toMatchObject({ "x-gate-error": "rate_limited", "x-gate-status": "429" });
  });

  it("is not asked by API clients: they get the JSON", async () => {
    const gate = await gateWithErrorPage(() => html(CUSTOM));
    const response = await forbidden(gate, API);
    expect(await response.json()).toEqual({ error: "forbidden" });
    expect(pageAsks(gate)).toHaveLength(0);
  });

  const FAILURES: Array<[name: string, reply: Reply]> = [
    ["answers 500", () => html("<h1>broken</h1>", 500)],
    ["answers 404", () => html("<h1>no such page</h1>", 404)],
    ["answers 201", () => html(CUSTOM, 201)],
    ["redirects", () => new Response(null, { status: 302, headers: { Location: "/elsewhere" } })],
    ["answers JSON", () => Response.json({ page: "no" })],
    ["answers plain text", () => html("plain", 200, "text/plain")],
    ["answers without a Content-Type", () => new Response(new TextEncoder().encode(CUSTOM))],
    ["throws (unreachable)", () => Promise.reject(new TypeError("Network connection lost."))],
  ];

  it.each(FAILURES)("falls back to the built-in page when the origin %s, and logs why", async (_name, reply) => {
    const gate = await gateWithErrorPage(reply);
    const response = await forbidden(gate);
    expect(response.status).toBe(403);
    expect(response.headers.get("Content-Type")).toBe("text/html; charset=utf-8");
    expect(await decoded(response)).toContain("<h1>You don't have access to this page</h1>");
    expect(pageAsks(gate)).toHaveLength(1);
    expect(gate.events("origin.error").at(-1)).toMatchObject({ error_page: ERROR_PAGE, request_id: response.headers.get("X-Request-Id") });
  });

  it("never asks an origin that could not be reached (bad_gateway): the built-in page", async () => {
    const gate = await createTestGate({ gate: { error_page: ERROR_PAGE } });
    gate.origin.reply(() => {
      throw new TypeError("Network connection lost.");
    });
    const response = await gate.request("/public/x", { headers: NAVIGATION });
    expect(response.status).toBe(502);
    expect(await decoded(response)).toContain("<h1>The site isn't responding</h1>");
    expect(gate.origin.received.map((seen: Received) => seen.path)).toEqual(["/public/x"]);
  });

  /** Sends a navigation to /deny/x (memory store: no I/O before the error) while fake time runs; returns the body. */
  async function withFakeTime(gate: Gate, step: number): Promise<string> {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    let done = false;
    const pending = gate.request("/deny/x", { headers: NAVIGATION }).finally(() => void (done = true));
    for (let i = 0; i < 100 && !done; i++) {
      await vi.advanceTimersByTimeAsync(step);
      await scheduler.wait(1); // a real turn of the event loop
    }
    const response = await pending;
    expect(response.status).toBe(404);
    return response.text();
  }

  it("waits for an origin that answers within 2 s", async () => {
    const gate = await gateWithErrorPage(() => new Promise((resolve) => setTimeout(() => resolve(html(CUSTOM)), 1_900)), { store: "memory" });
    expect(await withFakeTime(gate, 100)).toBe(CUSTOM);
  });

  it("gives up on an origin slower than 2 s, and uses the built-in page", async () => {
    const gate = await gateWithErrorPage(() => new Promise((resolve) => setTimeout(() => resolve(html(CUSTOM)), 2_100)), { store: "memory" });
    expect(await withFakeTime(gate, 100)).toContain("<h1>Page not found</h1>");
    expect(gate.events("origin.error").at(-1)?.error).toMatch(/no answer within 2000 ms/);
  });

  it("gives up on an origin that never answers", async () => {
    const gate = await gateWithErrorPage(() => new Promise(() => {}), { store: "memory" });
    expect(await withFakeTime(gate, 500)).toContain("<h1>Page not found</h1>");
  });
});
