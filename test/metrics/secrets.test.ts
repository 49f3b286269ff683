// No data point carries a token, a cookie, an address, a user or a session id (src/metrics/layout.ts):
// whoever can read the dataset learns counts, routes and reasons, never who or with what.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, cookie, createTestGate, signLogin, tokenFrom } from "../helpers/gate";
import { createRecordingDataset } from "./recording";

const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/** Visible ASCII but the characters a route pattern or reason could be made of alone. */
const SUB_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789@+=!$~";

const identity = fc.record({
  sub: fc.string({ unit: fc.constantFrom(...SUB_CHARS), minLength: 8, maxLength: 64 }),
  role: fc.string({ unit: fc.constantFrom(...SUB_CHARS), minLength: 8, maxLength: 20 }),
  claim: fc.string({ unit: fc.constantFrom(...SUB_CHARS), minLength: 8, maxLength: 40 }),
  ip: fc.oneof(fc.ipV4(), fc.ipV6()),
  userAgent: fc.string({ unit: fc.constantFrom(...SUB_CHARS, " ", "/", ";"), minLength: 12, maxLength: 80 }),
  forged: fc.string({ unit: fc.constantFrom(...BASE64URL), minLength: 43, maxLength: 43 }),
  site: fc.string({ unit: fc.constantFrom(...SUB_CHARS), minLength: 8, maxLength: 32 }),
  origin: fc.domain().map((host) => `https://${host}`),
});

describe("data points", () => {
  it("never carry a token, cookie, address, sub, role, claim, user agent or sid, whatever the identity (property)", async () => {
    const metrics = createRecordingDataset();
    const gate = await createTestGate({ metrics: { dataset: metrics.dataset } });
    await fc.assert(
      fc.asyncProperty(identity, async ({ sub, role, claim, ip, userAgent, forged, site, origin }) => {
        metrics.written.length = 0;
        const client = { "CF-Connecting-IP": ip, "User-Agent": userAgent };
        const jwt = await signLogin({ sub, roles: [role], claims: { note: claim } }, Math.floor(gate.clock.now / 1_000));
        gate.origin.reply(() => new Response("welcome", { headers: { "X-Gate-Login": jwt } }));
        const login = await gate.request("/login", { method: "POST", headers: { ...client, "Sec-Fetch-Site": "same-origin" } });
        gate.origin.reply((_r, seen) => Response.json(seen));
        const token = tokenFrom(login) ?? "";
        expect(token).not.toBe("");
        const { sid } = (await (await gate.request("/_gate/session", { headers: { ...client, ...cookie(token) } })).json()) as { sid: string };
        await gate.request(`/admin/${encodeURIComponent(sub)}`, { headers: { ...client, ...cookie(token) } }); // 403: no admin role
        await gate.request("/page", { headers: { ...client, ...cookie(forged) } }); // refused: unknown token
        await gate.request("/page", { headers: { ...client, Authorization: `Bearer ${forged}` } });
        // Refused as CSRF with what the client wrote in the reason the log keeps: the point keeps only its kind.
        await gate.request("/page", { method: "POST", headers: { ...client, ...cookie(token), "Sec-Fetch-Site": site } });
        await gate.request("/socket", { headers: { ...client, ...cookie(token), Upgrade: "websocket", Connection: "Upgrade", Origin: origin } });
        await gate.request(`/_gate/admin/users/${encodeURIComponent(sub)}/sessions`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
        await gate.request(`/_gate/sessions/${sid}`, { method: "DELETE", headers: { ...client, ...cookie(token), "Sec-Fetch-Site": "same-origin" } });

        const text = JSON.stringify(metrics.written);
        expect(sid).toMatch(/^[\w-]{16,}$/);
        expect(metrics.events("request").length).toBeGreaterThanOrEqual(9);
        expect(metrics.events("csrf.blocked").map((point) => point.reason)).toEqual(["sec-fetch-site:other", "websocket_origin"]);
        expect(new Set(metrics.points().map((point) => point.event))).toEqual(
          new Set(["request", "session.created", "auth.denied", "csrf.blocked", "session.revoked"]),
        );
        for (const secret of [token, forged, ip, sub, encodeURIComponent(sub), role, claim, userAgent, sid, ADMIN_TOKEN, jwt, site, origin]) {
          expect(text).not.toContain(secret);
        }
        for (const point of metrics.written) {
          expect(point.doubles?.every((value) => typeof value === "number")).toBe(true);
          expect(point.indexes).toEqual([point.blobs?.[0]]);
        }
      }),
      { numRuns: 25 },
    );
  });
});
