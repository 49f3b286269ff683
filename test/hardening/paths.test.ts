import { describe, expect, it } from "vitest";
import { cookie, createTestGate } from "../helpers/gate";

const JSON_ACCEPT = { Accept: "application/json" };

/** A gate with bob signed in, without the admin role. */
async function asBob() {
  const gate = await createTestGate();
  const bob = cookie(await gate.login("paths-bob", ["user"]));
  gate.origin.received.splice(0);
  return { gate, headers: { ...bob, ...JSON_ACCEPT } };
}

describe("paths an origin could read under another route", () => {
  // Each falls under /* for the gate, and under /admin/* for an origin that decodes %3B before
  // cutting ;parameters, or decodes %25 twice (src/policy/readings.ts).
  it.each(["/admin%3Bx", "/admin%3bx/panel", "/%3B/../admin%3Bx", "/%2561dmin", "/%2561dmin/panel", "/public/%252e%252e/admin", "/public/a%252Fb"])(
    "refuses %s with 400 and forwards nothing",
    async (path) => {
      const { gate, headers } = await asBob();
      const response = await gate.request(path, { headers });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: "bad_request" });
      expect(gate.origin.received).toEqual([]);
      expect(gate.events("request.rejected")).toEqual([expect.objectContaining({ reason: "ambiguous_path" })]);
    },
  );

  it.each([
    ["/public/100%25", "/public/100%25"],
    ["/public/a%3Bb", "/public/a%3Bb"],
    ["/public/%2561", "/public/%2561"],
    ["/reports/50%25-off", "/reports/50%25-off"],
  ])("forwards %s, whose every reading stays under the same route", async (path, forwarded) => {
    const { gate, headers } = await asBob();
    const response = await gate.request(path, { headers });
    expect(response.status).toBe(200);
    expect(gate.origin.last().path).toBe(forwarded);
  });
});
