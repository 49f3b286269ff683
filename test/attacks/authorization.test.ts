import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, createTestGate } from "../helpers/gate";
import { expectRefused } from "./helpers";

/** A gate with a bearer session for an API client. */
async function withBearer() {
  const gate = await createTestGate();
  const issued = await gate.request("/_gate/admin/sessions", {
    method: "POST",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ sub: "api-client" }),
  });
  const { token } = (await issued.json()) as { token: string };
  gate.origin.received.splice(0);
  return { gate, token };
}

describe("Authorization headers in odd shapes", () => {
  const shapes = (token: string): Array<[string, HeadersInit]> => [
    ["comma-combined after another scheme", { Authorization: `Basic dXNlcjpwYXNz, Bearer ${token}` }],
    ["comma-combined before another scheme", { Authorization: `Bearer ${token}, Basic dXNlcjpwYXNz` }],
    [
      "duplicated with another value",
      [
        ["Authorization", "Basic dXNlcjpwYXNz"],
        ["Authorization", `Bearer ${token}`],
      ],
    ],
    [
      "duplicated with itself",
      [
        ["Authorization", `Bearer ${token}`],
        ["Authorization", `Bearer ${token}`],
      ],
    ],
    ["with odd spacing and case", { Authorization: `bearer   ${token} ,Basic x` }],
  ];

  for (const [label, _] of shapes("x")) {
    it(`does not authenticate with a gate token ${label}`, async () => {
      const { gate, token } = await withBearer();
      const [, headers] = shapes(token).find(([name]) => name === label)!;
      const response = await gate.request("/dashboard", { headers: { Accept: "application/json", ...Object.fromEntries(new Headers(headers)) } });
      await expectRefused(gate, response, 401, "unauthenticated");
    });

    it(`never forwards a gate token ${label} to the origin`, async () => {
      const { gate, token } = await withBearer();
      const [, headers] = shapes(token).find(([name]) => name === label)!;
      const response = await gate.request("/public/page", { headers: Object.fromEntries(new Headers(headers)) });
      expect(response.status).toBe(200);
      expect(JSON.stringify(gate.origin.last().headers)).not.toContain(token);
      expect(gate.origin.last().headers.authorization).toBeUndefined();
    });
  }

  it("passes the origin's own bearer (not a gate token) through untouched", async () => {
    const { gate } = await withBearer();
    await gate.request("/public/page", { headers: { Authorization: "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig, Basic abc" } });
    expect(gate.origin.last().headers.authorization).toBe("Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig, Basic abc");
  });
});
