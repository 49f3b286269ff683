import { describe, expect, it } from "vitest";
import { cookie, createTestGate } from "../helpers/gate";
import { expectRefused } from "./helpers";

/** A gate whose origin knows /admin and /deny, and a user with a session but no admin role. */
async function withUser() {
  const gate = await createTestGate();
  const token = await gate.login("path-user", ["user"]);
  gate.origin.received.splice(0);
  return { gate, token };
}

describe("spellings of /_gate/ never reach the origin", () => {
  const spellings = [
    "/_gate%3Bx/session",
    "/_gate%3b/session",
    "/_GATE%3B/Session",
    "/_gate%3Bx/admin/users",
    "/_gate./session",
    "/_gate%2E/session",
    "/_gate%20/session",
    "/_gate.%20/session",
    "/_gate;x/session",
    "/x/..;/_gate/session",
  ];
  for (const path of spellings) {
    it(`treats ${path} as the gate's, never forwarded`, async () => {
      const { gate, token } = await withUser();
      const response = await gate.request(path, { headers: { ...cookie(token), Accept: "application/json" } });
      expect([400, 404]).toContain(response.status);
      expect(gate.origin.received).toEqual([]);
    });
  }
});

describe("percent-escaped letters that fold to ASCII", () => {
  const folding: Array<[string, string]> = [
    ["dotless ı (upper case I)", "/adm%C4%B1n/panel"],
    ["dotless ı, lower-case escapes", "/adm%c4%b1n/panel"],
    ["Kelvin sign K (lower case k)", "/%E2%84%AAey"],
    ["long s ſ (upper case S)", "/%C5%BFecret"],
    ["sharp s ß (upper case SS)", "/stra%C3%9Fe"],
    ["fullwidth solidus ／ (compatibility form of /)", "/admin%EF%BC%8Fpanel"],
    ["no-break space (compatibility form of a space)", "/admin%C2%A0"],
    ["capital I with dot İ (lower case i̇)", "/adm%C4%B0n/panel"],
    ["ligature ﬀ (upper case FF)", "/%EF%AC%80oo"],
    ["fullwidth ａ (compatibility form of a)", "/%EF%BD%81dmin/panel"],
    ["in the gate's own prefix", "/_g%EF%BD%81te/session"],
  ];
  for (const [label, path] of folding) {
    it(`answers ${label} with 400, nothing forwarded`, async () => {
      const { gate, token } = await withUser();
      await expectRefused(gate, await gate.request(path, { headers: { ...cookie(token), Accept: "application/json" } }), 400, "bad_request");
    });
  }

  it("still forwards letters that fold only to other non-ASCII letters", async () => {
    const { gate, token } = await withUser();
    for (const path of ["/caf%C3%A9", "/gr%C3%BCn", "/%E6%97%A5%E6%9C%AC"]) {
      expect((await gate.request(path, { headers: cookie(token) })).status).toBe(200);
    }
    expect(gate.origin.received.map((r) => r.path)).toEqual(["/caf%C3%A9", "/gr%C3%BCn", "/%E6%97%A5%E6%9C%AC"]);
  });
});
