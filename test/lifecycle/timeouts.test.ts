import { describe, expect, it } from "vitest";
import { T0, cookie, createTestGate } from "../helpers/gate";

const MINUTE = 60_000;
const s = (ms: number) => Math.floor(ms / 1000);

describe("what a session reports about its own end", () => {
  it("reports the idle deadline as of this request, after the request has touched the session", async () => {
    const gate = await createTestGate();
    const token = await gate.login("to-report");
    gate.clock.advance(14 * MINUTE);
    const response = await gate.request("/_gate/session", { headers: cookie(token) });
    const body = (await response.json()) as { idle_expires_at: number; expires_at: number };
    expect(body.idle_expires_at).toBe(s(T0 + 14 * MINUTE + 30 * MINUTE));
    expect(body.expires_at).toBe(s(T0 + 12 * 60 * MINUTE));
    gate.clock.advance(30 * MINUTE - 1_000);
    expect((await gate.request("/api/x", { headers: cookie(token) })).status).toBe(200);
  });

  it("reports the rotated session's deadline on the request that rotated it", async () => {
    const gate = await createTestGate();
    const token = await gate.login("to-rotate");
    gate.clock.advance(15 * MINUTE);
    const response = await gate.request("/_gate/session", { headers: cookie(token) });
    expect(response.headers.getSetCookie()).toHaveLength(1);
    expect(((await response.json()) as { idle_expires_at: number }).idle_expires_at).toBe(s(T0 + 45 * MINUTE));
  });

  it("never reports an idle deadline past the absolute one", async () => {
    const gate = await createTestGate({
      gate: { session: { idle_timeout: "30m", absolute_timeout: "40m", rotate_every: "15m", rotation_grace: "30s" } },
    });
    const token = await gate.login("to-cap");
    gate.clock.advance(14 * MINUTE);
    await gate.request("/api/x", { headers: cookie(token) });
    const body = (await (await gate.request("/_gate/session", { headers: cookie(token) })).json()) as { idle_expires_at: number; expires_at: number };
    expect(body.idle_expires_at).toBe(body.expires_at);
  });
});
