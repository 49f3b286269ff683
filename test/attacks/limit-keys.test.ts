import { describe, expect, it } from "vitest";
import { cookie } from "../helpers/gate";
import { createMemoryLimiters } from "../../src/ratelimit/memory";
import { TEST_POLICY } from "../helpers/gate";
import { guess, memoryGate } from "./helpers";

const limits = (limit: number) => ({
  rate_limits: {
    default: { limit, period: "1m", key: "ip" },
    login: { limit: 2, period: "1m", key: "ip" },
    failed_auth: { limit: 2, period: "10m", key: "ip" },
  },
  routes: [{ path: "/login", access: "public", rate_limit: "login" }, ...TEST_POLICY.routes],
});
const from = (ip: string, extra: Record<string, string> = {}) => ({ headers: { "CF-Connecting-IP": ip, ...extra } });

describe("rate limit keys: a client cannot escape a limiter by changing or respelling its address", () => {
  it("counts every address of one IPv6 /64 as one client", async () => {
    const gate = await memoryGate(limits(3), { limits: createMemoryLimiters(() => Date.now()) });
    const statuses = [];
    for (const ip of ["2001:db8:aa:bb::1", "2001:db8:aa:bb::2", "2001:db8:aa:bb:abcd:ef01:2345:6789", "2001:db8:aa:bb:ffff:ffff:ffff:fffe"]) {
      statuses.push((await gate.request("/public/x", from(ip))).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect((await gate.request("/public/x", from("2001:db8:aa:bc::1"))).status).toBe(200);
  });

  it("counts one address in every spelling as one client", async () => {
    const gate = await memoryGate({ ...limits(2), ipv6_limit_prefix: 128 }, { limits: createMemoryLimiters(() => Date.now()) });
    const spellings = ["2001:db8::7", "2001:DB8:0:0:0:0:0:7", "2001:0db8:0000:0000:0000:0000:0000:0007"];
    const statuses = [];
    for (const ip of spellings) statuses.push((await gate.request("/public/x", from(ip))).status);
    expect(statuses).toEqual([200, 200, 429]);
  });

  it("counts an IPv4-mapped IPv6 address as the IPv4 address it maps", async () => {
    const gate = await memoryGate(limits(2), { limits: createMemoryLimiters(() => Date.now()) });
    expect((await gate.request("/public/x", from("198.51.100.9"))).status).toBe(200);
    expect((await gate.request("/public/x", from("::ffff:198.51.100.9"))).status).toBe(200);
    expect((await gate.request("/public/x", from("::FFFF:c633:6409"))).status).toBe(429);
  });

  it("applies the /64 to the login and failed_auth limiters too", async () => {
    const gate = await memoryGate(limits(100), { limits: createMemoryLimiters(() => Date.now()) });
    const logins = [];
    for (const host of ["1", "2", "3"]) logins.push((await gate.request("/login", from(`2001:db8:1:2::${host}`))).status);
    expect(logins).toEqual([200, 200, 429]);
    const guesses = [];
    for (const [i, host] of ["a", "b", "c"].entries())
      guesses.push((await gate.request("/api/x", from(`2001:db8:9:9::${host}`, cookie(guess(i))))).status);
    expect(guesses).toEqual([401, 401, 429]);
  });

  it("keeps the full address in the log line of a refusal", async () => {
    const gate = await memoryGate(limits(1), { limits: createMemoryLimiters(() => Date.now()) });
    await gate.request("/public/x", from("2001:db8:5:5::1"));
    await gate.request("/public/x", from("2001:db8:5:5::2"));
    expect(gate.events("ratelimit.blocked")).toEqual([expect.objectContaining({ limiter: "default", ip: "2001:db8:5:5::2" })]);
  });

  it("refuses an ipv6_limit_prefix that is not a whole number from 32 to 128", async () => {
    for (const bad of [0, 31, 129, 64.5, "64"])
      await expect(memoryGate({ ipv6_limit_prefix: bad })).rejects.toThrow(/GATE\.ipv6_limit_prefix: expected a whole number from 32 to 128/);
  });
});
