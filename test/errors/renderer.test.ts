// createErrorRenderer on its own, in a bare Hono app: the links, the origin's page over a
// URL or in middleware mode, a short timeout, and what is not the gate's error to render.
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Config } from "../../src/config/types";
import { GateError } from "../../src/errors";
import type { GateEnv } from "../../src/http/context";
import { type ErrorRendererOptions, createErrorRenderer } from "../../src/http/error-page";
import { escapeHtml } from "../../src/http/error-page-html";
import { StoreUnavailableError } from "../../src/store/types";

const NAVIGATION = { Accept: "text/html", "Sec-Fetch-Mode": "navigate" };
const PAGE = "<!doctype html><h1>The origin's page</h1>";

/** A bare app that throws `error` for every request, after setting the path as `prepare` would. */
function appThrowing(error: unknown, options: Partial<ErrorRendererOptions> = {}) {
  const app = new Hono<GateEnv>();
  const log = vi.fn();
  app.onError(createErrorRenderer({ loginPath: "/login", origin: {}, log, ...options }));
  app.use(requestId({ headerName: "" }));
  app.use(async (c, next) => {
    const { pathname } = new URL(c.req.url);
    c.set("path", pathname);
    c.set("gatePath", pathname.startsWith("/_gate/"));
    await next();
  });
  app.all("*", () => {
    throw error;
  });
  const send = (path: string, headers: Record<string, string> = NAVIGATION) =>
    Promise.resolve(app.request(`https://gate.example${path}`, { headers }));
  return { send, log };
}

/** A service binding that answers every request with `reply`, recording them. */
function binding(reply: () => Promise<Response>) {
  const seen: Request[] = [];
  return { seen, fetcher: { fetch: (request: Request) => (seen.push(request), reply()) } as unknown as Fetcher };
}

describe("createErrorRenderer", () => {
  afterEach(() => void vi.restoreAllMocks());

  it("links a 401 to the login page, with next back to this page", async () => {
    const { send } = appThrowing(new GateError("unauthenticated"));
    const html = await (await send("/reports/q1?year=2026")).text();
    expect(html).toContain('<a href="/login?next=%2Freports%2Fq1%3Fyear%3D2026">Log in</a>');
  });

  it("asks for a fresh login with reauth=1 on reauthentication_required", async () => {
    const { send } = appThrowing(new GateError("reauthentication_required"));
    const response = await send("/admin/keys");
    expect(response.status).toBe(401);
    expect(await response.text()).toContain('<a href="/login?next=%2Fadmin%2Fkeys&#38;reauth=1">Log in again</a>');
  });

  it("asks for a login again when a route needs a device-bound session (DBSC)", async () => {
    const response = await appThrowing(new GateError("device_binding_required")).send("/payments");
    expect(response.status).toBe(403);
    const html = await response.text();
    expect(html).toContain("<h1>This page needs a more secure login</h1>");
    expect(html).toContain('<a href="/login?next=%2Fpayments">Log in again</a>');
  });

  it("sends no next back to one of the gate's own paths (an OpenID Connect callback with its code)", async () => {
    const { send } = appThrowing(new GateError("unauthenticated"));
    const html = await (await send("/_gate/oidc/corp/callback?code=secret-code&state=s")).text();
    expect(html).toContain('<a href="/login">Log in</a>');
    expect(html).not.toContain("secret-code");
  });

  it("escapes whatever the address holds", async () => {
    const { send } = appThrowing(new GateError("unauthenticated"));
    const html = await (await send(`/x?q="><script>alert(1)</script>`)).text();
    expect(html).not.toMatch(/<script|"><|alert\(1\)<\/script/);
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe("&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;");
  });

  it("has no login link without a login path (the misconfigured gate)", async () => {
    const { send } = appThrowing(new GateError("unauthenticated"), { loginPath: undefined });
    expect(await (await send("/dashboard")).text()).not.toContain("<a ");
  });

  it("says 1 second, not 1 seconds", async () => {
    const { send } = appThrowing(new GateError("rate_limited", { "Retry-After": "1" }));
    expect(await (await send("/x")).text()).toContain("Please wait 1 second, then try again.");
  });

  it("renders a store outage as unavailable and anything else as internal_error", async () => {
    const outage = await appThrowing(new StoreUnavailableError("kv", "lookup", new Error("down"))).send("/x");
    expect([outage.status, outage.headers.get("Retry-After")]).toEqual([503, "5"]);
    expect(await outage.text()).toContain("<h1>Temporarily unavailable</h1>");
    const bug = await appThrowing(new TypeError("cannot read properties of undefined")).send("/x");
    expect(bug.status).toBe(500);
    const html = await bug.text();
    expect(html).toContain("<h1>Something went wrong on our side</h1>");
    expect(html).not.toContain("cannot read");
  });

  it("leaves a Hono built-in's refusal its own response", async () => {
    const { send } = appThrowing(new HTTPException(413, { message: "too big" }));
    const response = await send("/x");
    expect(response.status).toBe(413);
    expect(await response.text()).toBe("too big");
  });

  it("fetches error_page over the origin URL, under its path prefix", async () => {
    const fetchSpy = vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response(PAGE, { headers: { "Content-Type": "text/html" } }));
    const origin: Config["origin"] = { url: new URL("https://origin.example/app/") };
    const response = await appThrowing(new GateError("not_found"), { errorPage: "/errors/gate", origin }).send("/missing");
    expect(response.status).toBe(404);
    expect(await response.text()).toBe(PAGE);
    const [request] = fetchSpy.mock.calls[0] as [Request];
    expect(request.url).toBe("https://origin.example/app/errors/gate");
    expect(Object.fromEntries(request.headers)).toEqual({
      accept: "text/html",
      "x-gate-error": "not_found",
      "x-gate-status": "404",
      "x-request-id": expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
  });

  it("never fetches error_page in middleware mode (no origin): the built-in page", async () => {
    const fetchSpy = vi.spyOn(globalThis, "fetch");
    const response = await appThrowing(new GateError("forbidden"), { errorPage: "/errors/gate", origin: {} }).send("/x");
    expect(await response.text()).toContain("<h1>You don&#39;t have access to this page</h1>");
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it("gives up on the origin after the timeout it is given", async () => {
    const origin = binding(() => new Promise(() => {}));
    const started = performance.now();
    const { send, log } = appThrowing(new GateError("not_found"), {
      errorPage: "/errors/gate",
      origin: { binding: origin.fetcher },
      errorPageTimeoutMs: 30,
    });
    const response = await send("/x");
    expect(await response.text()).toContain("<h1>Page not found</h1>");
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(origin.seen).toHaveLength(1);
    expect(origin.seen[0].signal.aborted).toBe(true); // the request to the origin was called off
    expect(log).toHaveBeenCalledWith("origin.error", expect.objectContaining({ error: expect.stringMatching(/no answer within 30 ms/) }));
  });

  it("refuses an origin page too large to be an error page", async () => {
    const origin = binding(async () => new Response(`<p>${"x".repeat(300 * 1024)}</p>`, { headers: { "Content-Type": "text/html" } }));
    const response = await appThrowing(new GateError("not_found"), { errorPage: "/errors/gate", origin: { binding: origin.fetcher } }).send("/x");
    expect(await response.text()).toContain("<h1>Page not found</h1>");
  });

  it("answers JSON to anything but a navigation, without asking the origin", async () => {
    const origin = binding(async () => new Response(PAGE, { headers: { "Content-Type": "text/html" } }));
    const { send } = appThrowing(new GateError("forbidden"), { errorPage: "/errors/gate", origin: { binding: origin.fetcher } });
    const response = await send("/x", { Accept: "application/json" });
    expect(await response.json()).toEqual({ error: "forbidden" });
    expect(origin.seen).toHaveLength(0);
  });
});
