import { describe, expect, it } from "vitest";
import { cookie, createTestGate } from "../helpers/gate";
import { expectRefused } from "./helpers";

const TRUSTED = "https://partner.example";

/** A gate that trusts one other origin, and a session. */
async function trustingGate() {
  const gate = await createTestGate({ gate: { trusted_origins: [TRUSTED] } });
  const token = await gate.login("cors-user");
  gate.origin.received.splice(0);
  return { gate, token };
}

describe("trusted_origins as browsers send them", () => {
  for (const site of ["cross-site", "same-site"]) {
    it(`lets an unsafe request with Sec-Fetch-Site ${site} through from a trusted Origin`, async () => {
      const { gate, token } = await trustingGate();
      const response = await gate.request("/dashboard", { method: "POST", headers: { ...cookie(token), "Sec-Fetch-Site": site, Origin: TRUSTED } });
      expect(response.status).toBe(200);
      expect(gate.origin.received).toHaveLength(1);
    });

    it(`still refuses Sec-Fetch-Site ${site} from an untrusted, missing or null Origin`, async () => {
      const { gate, token } = await trustingGate();
      for (const origin of ["https://evil.example", "null", undefined, "https://partner.example.evil.example", "HTTPS://PARTNER.EXAMPLE"]) {
        const headers: Record<string, string> = { ...cookie(token), "Sec-Fetch-Site": site, Accept: "application/json" };
        if (origin) headers.Origin = origin;
        await expectRefused(gate, await gate.request("/dashboard", { method: "POST", headers }), 403, "csrf");
      }
    });
  }
});

describe("CORS preflights", () => {
  const preflight = {
    method: "OPTIONS",
    headers: { Origin: TRUSTED, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type", "Sec-Fetch-Mode": "cors" },
  };

  it("reaches the origin on a session route without a session, so the origin can answer CORS", async () => {
    const { gate } = await trustingGate();
    gate.origin.reply(
      () => new Response(null, { status: 204, headers: { "Access-Control-Allow-Origin": TRUSTED, "Access-Control-Allow-Credentials": "true" } }),
    );
    const response = await gate.request("/api/data", preflight);
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe(TRUSTED);
    expect(gate.origin.last()).toMatchObject({ method: "OPTIONS", path: "/api/data" });
    expect(gate.origin.last().headers["x-gate-user"]).toBeUndefined();
  });

  it("is not a preflight when it carries credentials: it needs a session like any request", async () => {
    const { gate } = await trustingGate();
    const credentials: Array<Record<string, string>> = [
      { Cookie: `__Host-session=${"A".repeat(43)}` },
      { Authorization: `Bearer ${"A".repeat(43)}` },
      { Cookie: "other=1" },
    ];
    for (const extra of credentials) {
      const response = await gate.request("/api/data", {
        method: "OPTIONS",
        headers: { ...preflight.headers, ...extra, Accept: "application/json" },
      });
      expect(response.status).toBe(401);
    }
    expect(gate.origin.received).toEqual([]);
  });

  it("is not a preflight without Access-Control-Request-Method", async () => {
    const { gate } = await trustingGate();
    await expectRefused(
      gate,
      await gate.request("/api/data", { method: "OPTIONS", headers: { Origin: TRUSTED, Accept: "application/json" } }),
      401,
      "unauthenticated",
    );
  });

  it("never reaches a deny route", async () => {
    const { gate } = await trustingGate();
    await expectRefused(gate, await gate.request("/deny/x", preflight), 404, "not_found");
  });
});
