import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, T0, createTestGate, signLogin, tokenFrom } from "../helpers/gate";

/** Subs an origin would read, once trimmed by HTTP, as another user's name. */
const TRIMMED = [" alice", "alice ", "\talice", "alice\t", "  alice  "];

describe("identity values that HTTP would trim", () => {
  for (const sub of TRIMMED) {
    it(`ignores an X-Gate-Login for sub ${JSON.stringify(sub)}: no session, nothing issued`, async () => {
      const gate = await createTestGate();
      const jwt = await signLogin({ sub, roles: ["user"] }, Math.floor(T0 / 1_000));
      gate.origin.reply(() => new Response("welcome", { headers: { "X-Gate-Login": jwt } }));
      const response = await gate.request("/login", { method: "POST", headers: { "Sec-Fetch-Site": "same-origin" } });
      expect(tokenFrom(response)).toBeUndefined();
      expect(gate.events("session.created")).toEqual([]);
      expect(gate.events("login.invalid")).toEqual([expect.objectContaining({ reason: "bad_sub" })]);
    });

    it(`refuses an admin-issued session for sub ${JSON.stringify(sub)} with 400`, async () => {
      const gate = await createTestGate();
      const response = await gate.request("/_gate/admin/sessions", {
        method: "POST",
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
        body: JSON.stringify({ sub }),
      });
      expect(response.status).toBe(400);
      expect(gate.events("session.created")).toEqual([]);
    });
  }

  it("still accepts a sub with inner spaces, and roles are never padded", async () => {
    const gate = await createTestGate();
    const token = await gate.login("Alice Example", ["user"]);
    expect(token).toHaveLength(43);
    const jwt = await signLogin({ sub: "bob", roles: [" admin"] }, Math.floor(T0 / 1_000));
    gate.origin.reply(() => new Response("welcome", { headers: { "X-Gate-Login": jwt } }));
    const response = await gate.request("/login", { method: "POST", headers: { "Sec-Fetch-Site": "same-origin" } });
    expect(tokenFrom(response)).toBeUndefined();
  });
});
