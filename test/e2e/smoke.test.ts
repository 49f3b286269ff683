import { describe, expect, it } from "vitest";
import { cookie, createTestGate } from "../helpers/gate";

describe("the gate end to end", () => {
  it("logs in, forwards identity, and logs out", async () => {
    const gate = await createTestGate();
    const token = await gate.login("alice", ["user"]);
    const response = await gate.request("/dashboard", { headers: cookie(token) });
    expect(response.status).toBe(200);
    const seen = gate.origin.last();
    expect(seen.headers["x-gate-user"]).toBe("alice");
    expect(seen.headers["x-gate-roles"]).toBe("user");
    expect(seen.headers.cookie).toBeUndefined();
    const logout = await gate.request("/_gate/logout", { method: "POST", headers: { ...cookie(token), "Sec-Fetch-Site": "same-origin" } });
    expect(logout.status).toBe(204);
    const after = await gate.request("/dashboard", { headers: cookie(token) });
    expect(after.status).toBe(401);
  });
});
