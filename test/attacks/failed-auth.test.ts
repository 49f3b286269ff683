import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, cookie } from "../helpers/gate";
import { createMemoryLimiters } from "../../src/ratelimit/memory";
import { createMemoryStore } from "../../src/store/memory";
import { countingLookups, expectRefused, guess, memoryGate } from "./helpers";

const policy = { rate_limits: { failed_auth: { limit: 2, period: "10m", key: "ip" } } };
const office = "198.51.100.20";
const from = (headers: Record<string, string>) => ({ headers: { "CF-Connecting-IP": office, Accept: "application/json", ...headers } });

/** A gate where a guesser behind `office` has used up failed_auth, and a colleague there has a valid session. */
async function officeUnderAttack() {
  const { store, lookups } = countingLookups(createMemoryStore());
  const gate = await memoryGate(policy, { store, limits: createMemoryLimiters(() => Date.now()) });
  const colleague = await gate.login("colleague", [], { headers: { "CF-Connecting-IP": office } });
  gate.origin.received.splice(0);
  const answers = [];
  for (let i = 0; i < 3; i++) answers.push((await gate.request("/dashboard", from(cookie(guess(i))))).status);
  expect(answers).toEqual([401, 401, 429]);
  return { gate, colleague, lookups };
}

describe("failed_auth hurts the guesser, not the neighbours behind the same address", () => {
  it("lets a valid session from the guesser's address through", async () => {
    const { gate, colleague } = await officeUnderAttack();
    const response = await gate.request("/dashboard", from(cookie(colleague)));
    expect(response.status).toBe(200);
    expect(gate.origin.received).toHaveLength(1);
  });

  it("lets a valid bearer session from the guesser's address through", async () => {
    const { gate } = await officeUnderAttack();
    const issued = await gate.request("/_gate/admin/sessions", {
      method: "POST",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json", "CF-Connecting-IP": "192.0.2.1" },
      body: JSON.stringify({ sub: "api-client" }),
    });
    const { token } = (await issued.json()) as { token: string };
    expect((await gate.request("/dashboard", from({ Authorization: `Bearer ${token}` }))).status).toBe(200);
  });

  it("refuses the guesser's next token with 429, after looking it up once", async () => {
    const { gate, lookups } = await officeUnderAttack();
    const before = lookups();
    await expectRefused(gate, await gate.request("/dashboard", from(cookie(guess(99)))), 429, "rate_limited");
    expect(lookups()).toBe(before + 1);
  });

  it("refuses a token it already refused without looking it up again", async () => {
    const { gate, lookups } = await officeUnderAttack();
    const before = lookups();
    for (let i = 0; i < 5; i++) await expectRefused(gate, await gate.request("/dashboard", from(cookie(guess(2)))), 429, "rate_limited");
    expect(lookups()).toBe(before);
  });

  it("counts refused admin-API bearers toward failed_auth, and still admits the right one", async () => {
    const gate = await memoryGate(policy, { limits: createMemoryLimiters(() => Date.now()) });
    const wrong = { Authorization: `Bearer ${"x".repeat(48)}` };
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await gate.request("/_gate/admin/users/alice/sessions", from(wrong))).status);
    expect(statuses).toEqual([401, 401, 429]);
    expect(gate.events("ratelimit.blocked")).toEqual([expect.objectContaining({ limiter: "failed_auth", ip: office })]);
    expect((await gate.request("/_gate/admin/users/alice/sessions", from({ Authorization: `Bearer ${ADMIN_TOKEN}` }))).status).toBe(200);
  });
});
