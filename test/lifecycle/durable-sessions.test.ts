import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, CHROME_UA, cookie, createClock, createTestGate, tokenFrom } from "../helpers/gate";

const asAdmin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
const sameOrigin = (token: string) => ({ ...cookie(token), "Sec-Fetch-Site": "same-origin" });
const from = (token: string, ip: string, ua = CHROME_UA) => ({ headers: { ...cookie(token), "CF-Connecting-IP": ip, "User-Agent": ua } });

type Listed = { sessions: Array<{ sid: string; current: boolean }> };

/** Two gates over the same objects with their own memory (owner caches, rotations): two isolates. */
async function twoIsolates(gate: Record<string, unknown> = {}) {
  const clock = createClock();
  return [await createTestGate({ clock, store: "durable", gate }), await createTestGate({ clock, store: "durable", gate })] as const;
}

// The scenarios of the revocation, binding and admin tests, on Durable Objects: everything here
// takes effect at once everywhere, which is what the second isolate checks.
describe("revocation on Durable Objects", () => {
  it("is seen by the very next request from another isolate that had the session cached", async () => {
    const [one, two] = await twoIsolates();
    const token = await one.login("drev-next");
    expect((await two.request("/api/me", { headers: cookie(token) })).status).toBe(200);
    expect((await two.request("/api/me", { headers: cookie(token) })).status).toBe(200);
    expect((await one.request("/_gate/logout", { method: "POST", headers: sameOrigin(token) })).status).toBe(204);
    const after = await two.request("/api/me", { headers: cookie(token) });
    expect(after.status).toBe(401);
    expect(two.events("auth.denied")).toEqual([expect.objectContaining({ reason: "revoked" })]);
  });

  it("ends every session of the user, and no one else's, on X-Gate-Logout: user, everywhere at once", async () => {
    const [one, two] = await twoIsolates();
    const laptop = await one.login("drev-carol");
    const phone = await two.login("drev-carol");
    const other = await two.login("drev-dave");
    one.origin.reply(() => new Response(null, { status: 204, headers: { "X-Gate-Logout": "user" } }));
    const response = await one.request("/settings/logout-everywhere", { method: "POST", headers: sameOrigin(laptop) });
    expect(response.status).toBe(204);
    expect(tokenFrom(response)).toBe("");
    expect((await two.request("/api/me", { headers: cookie(laptop) })).status).toBe(401);
    expect((await two.request("/api/me", { headers: cookie(phone) })).status).toBe(401);
    expect((await two.request("/api/me", { headers: cookie(other) })).status).toBe(200);
  });

  it("lists the user's sessions created in another isolate at once, and ends one of them by sid", async () => {
    const [one, two] = await twoIsolates();
    const keep = await one.login("drev-gina");
    const drop = await two.login("drev-gina");
    const { sessions } = (await (await one.request("/_gate/sessions", { headers: cookie(keep) })).json()) as Listed;
    expect(sessions).toHaveLength(2);
    const target = sessions.find((s) => !s.current)!;
    expect((await one.request(`/_gate/sessions/${target.sid}`, { method: "DELETE", headers: sameOrigin(keep) })).status).toBe(204);
    expect((await two.request("/api/me", { headers: cookie(drop) })).status).toBe(401);
    expect((await two.request("/api/me", { headers: cookie(keep) })).status).toBe(200);
  });

  it("refuses to end another user's session, without saying it exists", async () => {
    const gate = await createTestGate({ store: "durable" });
    const mallory = await gate.login("drev-mallory");
    const victim = await gate.login("drev-victim");
    const { sessions } = (await (await gate.request("/_gate/sessions", { headers: cookie(victim) })).json()) as Listed;
    expect((await gate.request(`/_gate/sessions/${sessions[0].sid}`, { method: "DELETE", headers: sameOrigin(mallory) })).status).toBe(404);
    expect((await gate.request("/_gate/sessions/nonexistent-sid", { method: "DELETE", headers: sameOrigin(mallory) })).status).toBe(404);
    expect((await gate.request("/api/me", { headers: cookie(victim) })).status).toBe(200);
  });

  it("ends the presented session on a new login, and the old token is refused everywhere", async () => {
    const [one, two] = await twoIsolates();
    const user = await one.login("drev-henry", ["user"]);
    await two.request("/api/me", { headers: cookie(user) });
    const admin = await one.login("drev-henry", ["admin"], { headers: cookie(user) });
    expect((await two.request("/api/me", { headers: cookie(user) })).status).toBe(401);
    expect((await two.request("/api/me", { headers: cookie(admin) })).status).toBe(200);
  });
});

describe("binding on Durable Objects", () => {
  it("revokes the session everywhere on a mismatch under enforce", async () => {
    const [one, two] = await twoIsolates({ session: { binding: "enforce" } });
    const token = await one.login("dbind-enforce");
    expect((await two.request("/api/data", from(token, "203.0.113.7"))).status).toBe(200);
    const stolen = await one.request("/api/data", from(token, "198.51.100.4"));
    expect(stolen.status).toBe(401);
    expect(one.origin.received.filter((r) => r.path === "/api/data")).toHaveLength(0);
    expect(one.events("session.revoked")).toEqual([expect.objectContaining({ reason: "binding_mismatch" })]);
    expect((await two.request("/api/data", from(token, "203.0.113.7"))).status).toBe(401);
  });

  it("reports a mismatch and lets the request through under report", async () => {
    const gate = await createTestGate({ store: "durable", gate: { session: { binding: "report" } } });
    const token = await gate.login("dbind-report");
    expect((await gate.request("/dashboard", from(token, "198.51.100.4"))).status).toBe(200);
    expect(gate.events("session.binding_mismatch")).toEqual([
      expect.objectContaining({ expected: "chrome/126|203.0.113", seen: "chrome/126|198.51.100", mode: "report" }),
    ]);
  });
});

describe("admin API on Durable Objects", () => {
  it("issues a bearer session that works from another isolate and never rotates", async () => {
    const [one, two] = await twoIsolates();
    const created = await one.request("/_gate/admin/sessions", {
      method: "POST",
      headers: { ...asAdmin, "Content-Type": "application/json" },
      body: JSON.stringify({ sub: "dsvc-reporting", roles: ["reader"], ttl: "30d" }),
    });
    expect(created.status).toBe(201);
    const body = (await created.json()) as { token: string; sid: string };
    two.clock.advance(2 * 86_400_000);
    const response = await two.request("/api/report", { method: "POST", headers: { Authorization: `Bearer ${body.token}` } });
    expect(response.status).toBe(200);
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(two.origin.last().headers).toMatchObject({ "x-gate-user": "dsvc-reporting", "x-gate-roles": "reader", "x-gate-session": body.sid });
  });

  it("lists, ends one, and ends all sessions of a user, seen at once by another isolate", async () => {
    const [one, two] = await twoIsolates();
    const a = await two.login("dadm-judy");
    const b = await two.login("dadm-judy");
    const bystander = await two.login("dadm-kim");
    const { sessions } = (await (await one.request("/_gate/admin/users/dadm-judy/sessions", { headers: asAdmin })).json()) as Listed;
    expect(sessions).toHaveLength(2);
    expect((await one.request(`/_gate/admin/sessions/${sessions[0].sid}`, { method: "DELETE", headers: asAdmin })).status).toBe(204);
    const alive = [await two.request("/api/me", { headers: cookie(a) }), await two.request("/api/me", { headers: cookie(b) })].filter(
      (r) => r.status === 200,
    );
    expect(alive).toHaveLength(1);
    const all = await one.request("/_gate/admin/users/dadm-judy/sessions", { method: "DELETE", headers: asAdmin });
    expect(all.status).toBe(200);
    expect((await two.request("/api/me", { headers: cookie(a) })).status).toBe(401);
    expect((await two.request("/api/me", { headers: cookie(b) })).status).toBe(401);
    expect((await two.request("/api/me", { headers: cookie(bystander) })).status).toBe(200);
    expect((await one.request("/_gate/admin/sessions/unknown", { method: "DELETE", headers: asAdmin })).status).toBe(404);
    expect((await one.request("/_gate/admin/users/dadm-judy/sessions", { headers: asAdmin })).status).toBe(200);
  });
});
