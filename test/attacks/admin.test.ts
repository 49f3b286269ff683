import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, CHROME_UA, createTestGate } from "../helpers/gate";

const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
const issue = (gate: Awaited<ReturnType<typeof createTestGate>>, sub: string) =>
  gate.request("/_gate/admin/sessions", {
    method: "POST",
    headers: { ...admin, "Content-Type": "application/json", "CF-Connecting-IP": "192.0.2.200" },
    body: JSON.stringify({ sub }),
  });

describe("the admin API", () => {
  for (const sub of ["team/alice", "DOMAIN\\bob", "a%2Fb", "x/../y"]) {
    it(`lists and ends the sessions of a user named ${JSON.stringify(sub)}`, async () => {
      const gate = await createTestGate();
      await gate.login(sub);
      const path = `/_gate/admin/users/${encodeURIComponent(sub)}/sessions`;
      const listed = await gate.request(path, { headers: admin });
      expect(listed.status).toBe(200);
      expect(((await listed.json()) as { sessions: unknown[] }).sessions).toHaveLength(1);
      const ended = await gate.request(path, { method: "DELETE", headers: admin });
      expect(await ended.json()).toEqual({ revoked: 1 });
      expect(gate.origin.received.filter((r) => r.path.includes("_gate"))).toEqual([]);
    });
  }

  it("still refuses an encoded slash anywhere else", async () => {
    const gate = await createTestGate();
    expect((await gate.request("/_gate/session%2Fx")).status).toBe(400);
    expect((await gate.request("/app/a%2Fb")).status).toBe(400);
  });

  it("marks every answer, refusals included, as not to be stored", async () => {
    const gate = await createTestGate();
    const issued = await issue(gate, "no-store-user");
    const { sid } = (await issued.json()) as { sid: string };
    const answers = [
      issued,
      await gate.request("/_gate/admin/users/no-store-user/sessions", { headers: admin }),
      await gate.request(`/_gate/admin/sessions/${sid}`, { method: "DELETE", headers: admin }),
      await gate.request("/_gate/admin/users/no-store-user/sessions", { method: "DELETE", headers: admin }),
      await gate.request("/_gate/admin/users/no-store-user/sessions"),
      await gate.request("/_gate/admin/nothing-here", { headers: admin }),
    ];
    for (const answer of answers) expect(answer.headers.get("cache-control")).toBe("no-store");
  });

  it("records an issued bearer session as issued by the admin API, not with the admin's address or browser", async () => {
    const gate = await createTestGate();
    await issue(gate, "api-client");
    const listed = await gate.request("/_gate/admin/users/api-client/sessions", { headers: admin });
    const [entry] = ((await listed.json()) as { sessions: Array<Record<string, unknown>> }).sessions;
    expect(entry).toMatchObject({ ip: "", user_agent: "", issued_by: "admin" });
    expect(JSON.stringify(entry)).not.toContain("192.0.2.200");
    expect(JSON.stringify(entry)).not.toContain(CHROME_UA);
  });
});
