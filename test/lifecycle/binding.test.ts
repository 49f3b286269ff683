import { describe, expect, it } from "vitest";
import { CHROME_UA, cookie, createTestGate } from "../helpers/gate";
import { browserOf, fingerprintOf, networkOf } from "../../src/session/fingerprint";

const CHROME_MINOR = CHROME_UA.replace("126.0.6478.126", "126.0.6478.183");
const CHROME_NEXT = CHROME_UA.replace("126.0.6478.126", "127.0.6533.72");
const FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

const from = (token: string, ip: string, ua = CHROME_UA) => ({ headers: { ...cookie(token), "CF-Connecting-IP": ip, "User-Agent": ua } });

describe("session binding", () => {
  it("reads browser family and major version only", () => {
    expect(browserOf(CHROME_UA)).toBe("chrome/126");
    expect(browserOf(CHROME_MINOR)).toBe("chrome/126");
    expect(browserOf(FIREFOX)).toBe("firefox/128");
    expect(browserOf("Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87")).toBe("edge/126");
    expect(browserOf("Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15")).toBe("safari/17");
    expect(browserOf("curl/8.5.0")).toBe("curl/8");
    expect(browserOf("")).toBe("other");
  });

  it("reads the /24 of IPv4 and the /48 of IPv6", () => {
    expect(networkOf("203.0.113.7")).toBe("203.0.113");
    expect(networkOf("::ffff:203.0.113.7")).toBe("203.0.113");
    expect(networkOf("2001:db8:abcd:12::1")).toBe("2001:db8:abcd");
    expect(networkOf("2001:0db8:abcd:0012:0000:0000:0000:0001")).toBe("2001:db8:abcd");
    expect(networkOf("2001:db8::1")).toBe("2001:db8:0");
    expect(fingerprintOf(CHROME_UA, "203.0.113.7")).toBe(fingerprintOf(CHROME_MINOR, "203.0.113.200"));
  });

  it("lets a minor browser update and a new address in the same /24 pass under enforce", async () => {
    const gate = await createTestGate({ gate: { session: { binding: "enforce" } } });
    const token = await gate.login("bind-minor");
    const response = await gate.request("/dashboard", from(token, "203.0.113.99", CHROME_MINOR));
    expect(response.status).toBe(200);
    expect(gate.events("session.binding_mismatch")).toHaveLength(0);
  });

  it("reports a mismatch and lets the request through under report", async () => {
    const gate = await createTestGate({ gate: { session: { binding: "report" } } });
    const token = await gate.login("bind-report");
    const response = await gate.request("/dashboard", from(token, "198.51.100.4", CHROME_NEXT));
    expect(response.status).toBe(200);
    expect(gate.events("session.binding_mismatch")).toEqual([
      expect.objectContaining({ expected: "chrome/126|203.0.113", seen: "chrome/127|198.51.100", mode: "report" }),
    ]);
  });

  it("revokes the session and answers 401 on a mismatch under enforce", async () => {
    const gate = await createTestGate({ gate: { session: { binding: "enforce" } } });
    const token = await gate.login("bind-enforce");
    const stolen = await gate.request("/api/data", from(token, "198.51.100.4"));
    expect(stolen.status).toBe(401);
    expect(gate.origin.received.filter((r) => r.path === "/api/data")).toHaveLength(0);
    expect(gate.events("session.binding_mismatch")).toHaveLength(1);
    expect(gate.events("session.revoked")).toEqual([expect.objectContaining({ reason: "binding_mismatch" })]);
    const owner = await gate.request("/api/data", from(token, "203.0.113.7"));
    expect(owner.status).toBe(401);
  });

  it("treats another browser family as a mismatch", async () => {
    const gate = await createTestGate({ gate: { session: { binding: "enforce" } } });
    const token = await gate.login("bind-family");
    expect((await gate.request("/api/data", from(token, "203.0.113.7", FIREFOX))).status).toBe(401);
  });

  it("checks nothing when binding is off", async () => {
    const gate = await createTestGate({ gate: { session: { binding: "off" } } });
    const token = await gate.login("bind-off");
    expect((await gate.request("/api/data", from(token, "198.51.100.4", FIREFOX))).status).toBe(200);
    expect(gate.events("session.binding_mismatch")).toHaveLength(0);
  });
});
