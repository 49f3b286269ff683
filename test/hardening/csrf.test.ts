import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, GATE_URL, cookie, createTestGate } from "../helpers/gate";

type Gate = Awaited<ReturnType<typeof createTestGate>>;

const TRUSTED = "https://app.example.com";
const POLICY = { trusted_origins: [TRUSTED] };
const JSON_BODY = { method: "POST", body: '{"amount":100}' };

/** A gate with a browser session (cookie) and an API session (bearer token from the admin API). */
async function withSessions() {
  const gate = await createTestGate({ gate: POLICY });
  const token = await gate.login("csrf-alice", ["user"]);
  const issued = await gate.request("/_gate/admin/sessions", {
    method: "POST",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ sub: "csrf-api" }),
  });
  expect(issued.status).toBe(201);
  const { token: bearer } = (await issued.json()) as { token: string };
  gate.origin.received.splice(0);
  return { gate, token, bearer };
}

/** Asserts a CSRF refusal: 403 `csrf`, logged, nothing forwarded. */
async function expectCsrf(gate: Gate, response: Response, label = ""): Promise<void> {
  expect(response.status, label).toBe(403);
  expect(await response.json(), label).toEqual({ error: "csrf" });
  expect(gate.origin.received, label).toEqual([]);
  expect(gate.events("csrf.blocked").length, label).toBeGreaterThan(0);
}

describe("the CSRF matrix (contract §5)", () => {
  type Site = "cross-site" | "same-site" | "same-origin" | "none" | "absent";
  type OriginCase = "own" | "trusted" | "foreign" | "null" | "absent";
  /** pass, refuse, or pass only without any cookie. */
  type Verdict = "pass" | "refuse" | "cookieless";
  const [P, R, C]: Verdict[] = ["pass", "refuse", "cookieless"];

  /**
   * Written from the contract, not the code: Sec-Fetch-Site decides when present
   * (same-origin and none pass; same-site and cross-site pass only from one of
   * trusted_origins, as §14 amends §5); without it, Origin must be the gate's
   * or a trusted one; with neither, only a request without cookies passes.
   */
  const CONTRACT: Record<Site, Record<OriginCase, Verdict>> = {
    //              own  trusted  foreign  null  absent
    "cross-site": { own: R, trusted: P, foreign: R, null: R, absent: R },
    "same-site": { own: R, trusted: P, foreign: R, null: R, absent: R },
    "same-origin": { own: P, trusted: P, foreign: P, null: P, absent: P },
    none: { own: P, trusted: P, foreign: P, null: P, absent: P },
    absent: { own: P, trusted: P, foreign: R, null: R, absent: C },
  };
  const ORIGINS: Record<OriginCase, string | undefined> = {
    own: GATE_URL,
    trusted: TRUSTED,
    foreign: "https://evil.example",
    null: "null",
    absent: undefined,
  };

  it("gives every combination of Sec-Fetch-Site, Origin, cookie and bearer the contract's outcome", async () => {
    const { gate, token, bearer } = await withSessions();
    let cells = 0;
    for (const [site, row] of Object.entries(CONTRACT) as Array<[Site, Record<OriginCase, Verdict>]>) {
      for (const [originCase, verdict] of Object.entries(row) as Array<[OriginCase, Verdict]>) {
        for (const withCookie of [false, true]) {
          for (const withBearer of [false, true]) {
            const label = `Sec-Fetch-Site ${site}, Origin ${originCase}, ${withCookie ? "cookie" : "no cookie"}, ${withBearer ? "bearer" : "no bearer"}`;
            const headers: Record<string, string> = { "Content-Type": "application/json", Accept: "application/json" };
            if (site !== "absent") headers["Sec-Fetch-Site"] = site;
            if (ORIGINS[originCase]) headers.Origin = ORIGINS[originCase]!;
            if (withCookie) Object.assign(headers, cookie(token));
            if (withBearer) headers.Authorization = `Bearer ${bearer}`;
            const passes = withBearer || verdict === "pass" || (verdict === "cookieless" && !withCookie);
            gate.origin.received.splice(0);
            const response = await gate.request("/api/transfer", { ...JSON_BODY, headers });
            if (!passes) {
              await expectCsrf(gate, response, label);
            } else if (withBearer || withCookie) {
              expect(response.status, label).toBe(200);
              expect(gate.origin.last().headers["x-gate-user"], label).toBe(withBearer ? "csrf-api" : "csrf-alice");
            } else {
              // Past the CSRF check, a session route without a session is 401, not 403.
              expect(response.status, label).toBe(401);
              expect(gate.origin.received, label).toEqual([]);
            }
            cells++;
          }
        }
      }
    }
    expect(cells).toBe(100);
  });
});

describe("CSRF beyond the matrix", () => {
  const crossSite = (token: string) => ({ ...cookie(token), "Sec-Fetch-Site": "cross-site" });

  it("checks every method that is not GET, HEAD or OPTIONS, whatever the body type", async () => {
    const { gate, token } = await withSessions();
    const bodies: Array<[string, string]> = [
      ["application/json", '{"a":1}'],
      ["text/plain", '{"a":1}'],
      ["application/x-www-form-urlencoded", "a=1"],
      ["multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--x--\r\n"],
    ];
    for (const method of ["POST", "PUT", "PATCH", "DELETE", "PROPPATCH", "MOVE", "patch"]) {
      for (const [type, body] of bodies) {
        await expectCsrf(
          gate,
          await gate.request("/api/x", { method, body, headers: { ...crossSite(token), "Content-Type": type } }),
          `${method} ${type}`,
        );
      }
      await expectCsrf(gate, await gate.request("/api/x", { method, headers: crossSite(token) }), `${method} without a body`);
    }
    for (const method of ["GET", "HEAD", "OPTIONS"]) {
      expect((await gate.request("/api/x", { method, headers: crossSite(token) })).status, method).toBe(200);
    }
  });

  it("refuses origins that only look like the gate's or a trusted one", async () => {
    const { gate, token } = await withSessions();
    const lookAlikes = [
      "https://gate.example.evil.com",
      "https://evil.com",
      "https://GATE.EXAMPLE",
      "https://gate.example:443",
      "https://gate.example:8443",
      "https://gate.example.",
      "http://gate.example",
      "https://gate.example/",
      "https://sub.gate.example",
      "https://gate.example, https://evil.example",
      "https://app.example.com.evil.com",
      "https://APP.example.com",
      "null",
      "",
    ];
    for (const origin of lookAlikes) {
      await expectCsrf(gate, await gate.request("/api/x", { ...JSON_BODY, headers: { ...cookie(token), Origin: origin } }), origin);
    }
  });

  it("refuses Sec-Fetch-Site values that are not exactly same-origin or none", async () => {
    const { gate, token } = await withSessions();
    for (const site of ["Same-Origin", "same-origin, cross-site", "", "same-origin-ish", "NONE"]) {
      await expectCsrf(
        gate,
        await gate.request("/api/x", { ...JSON_BODY, headers: { ...cookie(token), "Sec-Fetch-Site": site, Origin: GATE_URL } }),
        site,
      );
    }
  });

  it("protects the login form: a cross-site POST /login never reaches the origin", async () => {
    const gate = await createTestGate();
    for (const type of ["application/x-www-form-urlencoded", "text/plain", "application/json"]) {
      const response = await gate.request("/login", {
        method: "POST",
        body: "user=mallory&password=x",
        headers: { "Content-Type": type, "Sec-Fetch-Site": "cross-site" },
      });
      await expectCsrf(gate, response, type);
      expect(response.headers.getSetCookie()).toEqual([]);
    }
    const viaOrigin = await gate.request("/login", { method: "POST", body: "user=mallory", headers: { Origin: "https://evil.example" } });
    await expectCsrf(gate, viaOrigin);
    expect(gate.events("session.created")).toEqual([]);
  });

  it("protects POST /_gate/logout and DELETE /_gate/sessions/:sid", async () => {
    const { gate, token } = await withSessions();
    const sid = gate.events("session.created")[0].sid as string;
    await expectCsrf(gate, await gate.request("/_gate/logout", { method: "POST", headers: crossSite(token) }));
    await expectCsrf(gate, await gate.request(`/_gate/sessions/${sid}`, { method: "DELETE", headers: crossSite(token) }));
    expect((await gate.request("/_gate/session", { headers: cookie(token) })).status).toBe(200);
  });

  it("exempts a valid bearer token only: an unknown one gets the CSRF check", async () => {
    const { gate } = await withSessions();
    const response = await gate.request("/api/x", {
      ...JSON_BODY,
      headers: { Authorization: `Bearer ${"B".repeat(43)}`, "Sec-Fetch-Site": "cross-site" },
    });
    await expectCsrf(gate, response);
  });

  it("lets a route with csrf = false (a webhook) take cross-site posts", async () => {
    const { gate, token } = await withSessions();
    const response = await gate.request("/webhooks/payment", { ...JSON_BODY, headers: { ...crossSite(token), Origin: "https://payments.example" } });
    expect(response.status).toBe(200);
    expect(gate.origin.last().body).toBe('{"amount":100}');
    expect(gate.events("csrf.blocked")).toEqual([]);
  });
});
