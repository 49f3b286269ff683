import { describe, expect, it } from "vitest";
import { GATE_URL, ORIGIN_SECRET, cookie, createTestGate, tokenFrom } from "../helpers/gate";
import { createOrigin } from "../../examples/hono-origin.mjs";
import { isolatedKvStore } from "./helpers";

/** The Hono example as the gate's origin, on a clock at real time (the example verifies at real time). */
async function gateInFrontOfHono() {
  const clock = { now: Date.now(), advance: (ms: number) => void (clock.now += ms) };
  const gate = await createTestGate({ store: isolatedKvStore(), clock });
  // With a service binding and no ORIGIN_URL the gate signs its own origin as `aud`.
  const origin = createOrigin({
    gateUrl: GATE_URL,
    audience: GATE_URL,
    originSecret: ORIGIN_SECRET,
    fetch: (url: string) => gate.request(new URL(url).pathname),
  });
  // The recording origin has read the body already: hand the example a fresh copy.
  gate.origin.reply((request, seen) =>
    origin.fetch(new Request(request.url, { method: request.method, headers: request.headers, body: seen.body || undefined })),
  );
  return { gate, origin };
}

describe("examples/hono-origin.mjs behind the gate", () => {
  it("logs in with signLogin and serves the dashboard to a verified assertion", async () => {
    const { gate } = await gateInFrontOfHono();
    const login = await gate.request("/login", {
      method: "POST",
      body: "username=carol&password=x",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin" },
    });
    expect(login.status).toBe(303);
    const token = tokenFrom(login)!;
    const dashboard = await gate.request("/dashboard", { headers: cookie(token) });
    expect(dashboard.status).toBe(200);
    expect(await dashboard.json()).toMatchObject({ hello: "carol", roles: ["user"] });
  });

  it("refuses a request that reaches it around the gate, identity headers and all", async () => {
    const { origin } = await gateInFrontOfHono();
    const direct = await origin.fetch(
      new Request("https://gate.example/dashboard", { headers: { "X-Gate-User": "root", "X-Forwarded-Host": "gate.example" } }),
    );
    expect(direct.status).toBe(401);
    expect(await direct.json()).toEqual({ error: "unauthenticated", reason: "missing" });
  });
});
