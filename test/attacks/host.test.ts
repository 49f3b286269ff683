import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { cookie, createTestGate } from "../helpers/gate";
import { expectRefused } from "./helpers";

const PUBLIC = "https://app.example.com";

/** A gate told its public origin, with a session logged in on it. */
async function publicGate() {
  const gate = await createTestGate({ gate: { public_origin: PUBLIC } });
  const token = await gate.login("host-user");
  gate.origin.received.splice(0);
  return { gate, token };
}

describe("the gate's own origin comes from GATE.public_origin, not from the request's Host", () => {
  it("answers 421 misdirected_request to a request for any other host, nothing forwarded", async () => {
    const { gate, token } = await publicGate();
    for (const url of [
      "https://gate.example/dashboard",
      "https://evil.example/dashboard",
      "https://app.example.com.evil.example/dashboard",
      "http://app.example.com/dashboard",
      "https://app.example.com:8443/dashboard",
    ]) {
      await expectRefused(gate, await gate.request(url, { headers: { ...cookie(token), Accept: "application/json" } }), 421, "misdirected_request");
    }
  });

  it("sends the public origin's host and scheme to the origin, and signs htu and iss with it", async () => {
    const { gate, token } = await publicGate();
    await gate.request(`${PUBLIC}/dashboard?x=1`, { headers: { ...cookie(token), Host: "app.example.com" } });
    const seen = gate.origin.last().headers;
    expect(seen["x-forwarded-host"]).toBe("app.example.com");
    expect(seen["x-forwarded-proto"]).toBe("https");
    const claims = decodeJwt(seen["x-gate-assertion"]);
    expect(claims).toMatchObject({ iss: PUBLIC, htu: `${PUBLIC}/dashboard` });
  });

  it("takes the public origin as the CSRF own origin", async () => {
    const { gate, token } = await publicGate();
    const post = (origin: string) => gate.request(`${PUBLIC}/dashboard`, { method: "POST", headers: { ...cookie(token), Origin: origin } });
    expect((await post(PUBLIC)).status).toBe(200);
    gate.origin.received.splice(0);
    await expectRefused(gate, await post("https://gate.example"), 403, "csrf");
  });

  it("without public_origin, keeps using the request's own URL", async () => {
    const gate = await createTestGate();
    const token = await gate.login("host-default");
    await gate.request("/dashboard", { headers: cookie(token) });
    expect(gate.origin.last().headers["x-forwarded-host"]).toBe("gate.example");
  });

  it("refuses a public_origin that is not an origin", async () => {
    for (const bad of [
      "app.example.com",
      "https://app.example.com/",
      "https://app.example.com/path",
      "ftp://app.example.com",
      "https://user@app.example.com",
    ]) {
      await expect(createTestGate({ gate: { public_origin: bad } })).rejects.toThrow(
        /GATE\.public_origin: expected an origin such as "https:\/\/app\.example\.com"/,
      );
    }
  });
});
