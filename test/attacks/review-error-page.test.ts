/**
 * Red-team review of GATE.error_page (contract §9, §15) against a flood of
 * refused navigations and a hostile origin. The refusals of test/attacks never
 * reach the origin; with error_page each refused navigation makes a request of
 * its own to the origin, so these count what the origin is made to do.
 */
import { describe, expect, it } from "vitest";
import { createTestGate } from "../helpers/gate";

const ERROR_PAGE = "/errors/gate";
const NAVIGATION = { Accept: "text/html", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document" };
const PAGE = "<!doctype html><title>Oops</title><h1>Our own error page</h1>";

type Gate = Awaited<ReturnType<typeof createTestGate>>;
const pageAsks = (gate: Gate) => gate.origin.received.filter((seen) => seen.path === ERROR_PAGE).length;

describe("review: error_page and refused navigations", () => {
  // Found by the red-team review and fixed (medium: the rate limit no longer shields the origin). src/http/error-page-origin.ts
  // fetchOriginPage() asks the origin once per refused navigation: every 429 (and every
  // 400/405/431/503 answered before the limiter) turns into a request to the origin, so a
  // client far over its limit still reaches the origin at its full rate, one error page
  // per request, each held up to 2 s.
  // The fix: cache the origin's page per error code in the isolate (e.g. 60 s, one fetch in
  // flight per code shared by concurrent requests), or use the built-in page for 429 and 503.
  it("does not ask the origin once per rate-limited navigation", async () => {
    const gate = await createTestGate({
      store: "memory",
      gate: { error_page: ERROR_PAGE, rate_limits: { default: { limit: 1, period: "1m", key: "ip" } } },
    });
    gate.origin.reply((_request, seen) =>
      seen.path === ERROR_PAGE ? new Response(PAGE, { headers: { "Content-Type": "text/html" } }) : Response.json(seen),
    );
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await gate.request("/public/x", { headers: NAVIGATION })).status);
    expect(statuses.filter((status) => status === 429)).toHaveLength(19);
    expect(pageAsks(gate)).toBeLessThanOrEqual(2);
  });

  // Found by the red-team review and fixed (low-medium: memory per isolate). readPage() in src/http/error-page-origin.ts calls
  // response.arrayBuffer() and only then compares with MAX_PAGE_BYTES (256 KiB): a hostile or
  // broken origin streaming a huge "error page" is buffered whole (for up to 2 s at the
  // origin's speed) in an isolate of 128 MB, taking its other requests down with it.
  // The fix: read the body through a reader and cancel it as soon as it passes MAX_PAGE_BYTES
  // (or refuse a Content-Length over it before reading).
  it("stops reading an origin's error page once it is larger than an error page can be", async () => {
    const gate = await createTestGate({ store: "memory", gate: { error_page: ERROR_PAGE } });
    const chunk = new Uint8Array(64 * 1024).fill(0x78);
    let pulled = 0;
    gate.origin.reply((_request, seen) => {
      if (seen.path !== ERROR_PAGE) return Response.json(seen);
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (pulled >= 8 * 1024 * 1024) return controller.close(); // bounded, so the test ends either way
          pulled += chunk.length;
          controller.enqueue(chunk);
        },
      });
      return new Response(body, { headers: { "Content-Type": "text/html" } });
    });
    const response = await gate.request("/deny/x", { headers: NAVIGATION });
    expect(response.status).toBe(404);
    expect(await response.text()).toContain("<h1>Page not found</h1>"); // the built-in page: that part holds
    expect(pulled).toBeLessThanOrEqual(512 * 1024);
  });
});
