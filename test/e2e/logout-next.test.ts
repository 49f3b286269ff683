import { describe, expect, it } from "vitest";
import { cookie, createTestGate } from "../helpers/gate";
import { logoutTarget } from "../../src/endpoints/self";

type Gate = Awaited<ReturnType<typeof createTestGate>>;

const FORM = { "Sec-Fetch-Site": "same-origin", "Content-Type": "application/x-www-form-urlencoded" };

/** A form logout of a fresh session with `query` on the URL; the session must be over whatever happens. */
async function formLogout(gate: Gate, query: string) {
  const token = await gate.login("logout-next");
  gate.origin.received.splice(0);
  const response = await gate.request(`/_gate/logout${query}`, { method: "POST", headers: { ...cookie(token), ...FORM }, body: "" });
  expect(response.headers.get("clear-site-data")).toBe('"cookies"');
  expect(gate.origin.received).toEqual([]);
  const after = await gate.request("/_gate/session", { headers: cookie(token) });
  expect(after.status).toBe(401);
  return response;
}

describe("POST /_gate/logout?next=", () => {
  it.each([
    ["?next=/goodbye", "/goodbye"],
    ["?next=%2Fdashboard%3Ftab%3D2", "/dashboard?tab=2"],
    ["?next=/", "/"],
  ])("sends a form logout with %s to the local path %s", async (query, location) => {
    const gate = await createTestGate();
    const response = await formLogout(gate, query);
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe(location);
  });

  it.each([
    "?next=//evil.example",
    "?next=https://evil.example",
    "?next=/%5Cevil.example",
    "?next=%2F%2Fevil.example",
    "?next=%252F%252Fevil.example",
    "?next=/%09/evil.example",
    "?next=/%0D%0ASet-Cookie:x=1",
    "?next=javascript:alert(1)",
    "?next=evil.example",
    "?next=",
  ])("refuses %s and sends the form logout to the login page instead", async (query) => {
    const gate = await createTestGate();
    const response = await formLogout(gate, query);
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/login");
  });

  it("ignores next on a logout that is not a form post (204, no Location)", async () => {
    const gate = await createTestGate();
    const token = await gate.login("logout-next-fetch");
    const response = await gate.request("/_gate/logout?next=/goodbye", {
      method: "POST",
      headers: { ...cookie(token), "Sec-Fetch-Site": "same-origin" },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("location")).toBeNull();
  });

  it("still refuses a cross-site logout whatever next says", async () => {
    const gate = await createTestGate();
    const token = await gate.login("logout-next-csrf");
    const response = await gate.request("/_gate/logout?next=/goodbye", {
      method: "POST",
      headers: { ...cookie(token), "Sec-Fetch-Site": "cross-site", "Content-Type": "application/x-www-form-urlencoded" },
      body: "",
    });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ error: "csrf" });
    expect((await gate.request("/_gate/session", { headers: cookie(token) })).status).toBe(200);
  });
});

describe("logoutTarget", () => {
  it("keeps local paths and refuses anything a browser could read as another host", () => {
    expect(logoutTarget("/a/b?c=d#e", "/login")).toBe("/a/b?c=d#e");
    for (const next of [
      "//evil.example",
      "/\\evil.example",
      "\\\\evil.example",
      "https://evil.example",
      "/\t/evil.example",
      "/\n/evil.example",
      " /x",
      "/ä",
      undefined,
    ]) {
      expect(logoutTarget(next, "/login")).toBe("/login");
    }
  });
});
