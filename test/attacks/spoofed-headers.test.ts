import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cookie, createTestGate } from "../helpers/gate";
import { SPOOFABLE_HEADERS, SPOOFABLE_PREFIXES } from "../../src/proxy/spoofable";

/**
 * Headers that proxies, servers and frameworks read as the original URL or
 * path, the method, the client's address or the original host and scheme
 * (researched from nginx, IIS/ASP.NET, Symfony, Rack/Rails, Express
 * method-override, Spring, Django, Envoy, Traefik, HAProxy, Apache, Akamai,
 * Fastly, CloudFront/ALB, Azure Front Door, Google LB, Heroku, request-ip and
 * Cloudflare's own). Written out here independently of the gate's list.
 */
const SPOOFABLE = [
  // the original URL or path
  "X-Original-URL",
  "X-Rewrite-URL",
  "X-Original-URI",
  "X-Forwarded-Uri",
  "X-Forwarded-Prefix",
  "X-Original-Prefix",
  "X-Envoy-Original-Path",
  "X-Envoy-Original-Url",
  "X-Accel-Redirect",
  // the method
  "X-HTTP-Method-Override",
  "X-HTTP-Method",
  "X-Method-Override",
  "X-Original-Method",
  "X-Forwarded-Method",
  // the client's address
  "X-Forwarded-For",
  "Forwarded",
  "X-Real-IP",
  "True-Client-IP",
  "X-Client-IP",
  "Client-IP",
  "X-Cluster-Client-IP",
  "CF-Connecting-IPv6",
  "CF-Pseudo-IPv4",
  "Fastly-Client-IP",
  "X-Azure-ClientIP",
  "X-Azure-SocketIP",
  "CloudFront-Viewer-Address",
  "X-Envoy-External-Address",
  "X-Original-For",
  "X-Original-Forwarded-For",
  "X-Forwarded",
  "Forwarded-For",
  "X-ProxyUser-Ip",
  "X-Originating-IP",
  "X-Remote-IP",
  "X-Remote-Addr",
  "DO-Connecting-IP",
  "X-AppEngine-User-IP",
  "X-Forwarded-Client-Cert",
  "X-ARR-ClientCert",
  "MS-ASPNETCORE-CLIENTCERT",
  "X-Envoy-Internal",
  // the original host, scheme or port
  "X-Forwarded-Host",
  "X-Forwarded-Proto",
  "X-Forwarded-Port",
  "X-Forwarded-Scheme",
  "X-Forwarded-Ssl",
  "X-Forwarded-Server",
  "Front-End-Https",
  "X-Url-Scheme",
  "X-Scheme",
  "X-Host",
  "X-Original-Host",
  "CF-Visitor",
  "CloudFront-Forwarded-Proto",
  "X-Forwarded-Protocol",
];

/** What the gate sets itself, with its own values: present, but never the client's. */
const SET_BY_GATE = new Set(["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"]);
const FORGED = "203.0.113.66-forged";

/** The spellings an origin folds together: case, and `_` for `-`. */
const spellings = (name: string) => [name, name.toLowerCase(), name.toUpperCase(), name.replace(/-/g, "_"), name.toLowerCase().replace(/-/g, "_")];

describe("headers other proxies trust never reach the origin from the client", () => {
  it("names them in canonical form, as src/proxy/strip.ts compares them (its prefix expression needs no escaping)", () => {
    for (const name of [...SPOOFABLE_HEADERS, ...SPOOFABLE_PREFIXES]) expect(name).toMatch(/^[a-z-]+$/);
  });

  it.each(SPOOFABLE)("strips %s in every spelling, with and without a session", async (name) => {
    const gate = await createTestGate();
    const token = await gate.login("spoof-user");
    for (const [path, headers] of [
      ["/public/page", {}],
      ["/dashboard", cookie(token)],
    ] as const) {
      for (const spelling of spellings(name)) {
        gate.origin.received.splice(0);
        await gate.request(path, { headers: { ...headers, [spelling]: FORGED } });
        const seen = gate.origin.last().headers;
        expect(Object.values(seen), `${spelling} reached the origin on ${path}`).not.toContain(FORGED);
        if (!SET_BY_GATE.has(name.toLowerCase())) expect(Object.keys(seen)).not.toContain(spelling.toLowerCase());
      }
    }
  });

  it("strips any mix of them, whatever the case or separators (property)", async () => {
    const gate = await createTestGate();
    const header = fc.constantFrom(...SPOOFABLE).chain((name) => fc.constantFrom(...spellings(name)));
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(header, { minLength: 1, maxLength: 8, selector: (h) => h.toLowerCase() }), async (names) => {
        gate.origin.received.splice(0);
        await gate.request("/public/page", { headers: Object.fromEntries(names.map((name) => [name, FORGED])) });
        expect(Object.values(gate.origin.last().headers)).not.toContain(FORGED);
      }),
      { numRuns: 60 },
    );
  });

  it("sends the client's address as X-Forwarded-For, from CF-Connecting-IP, and no client copy of Cloudflare's headers", async () => {
    const gate = await createTestGate();
    await gate.request("/public/page", {
      headers: { "CF-Connecting-IP": "198.51.100.4", "CF-Ray": "forged", "CF-IPCountry": "XX", "CDN-Loop": "forged" },
    });
    const seen = gate.origin.last().headers;
    expect(seen["x-forwarded-for"]).toBe("198.51.100.4");
    expect(Object.keys(seen).filter((name) => name.startsWith("cf-") || name === "cdn-loop")).toEqual([]);
  });

  it("still passes ordinary headers through", async () => {
    const gate = await createTestGate();
    await gate.request("/public/page", { headers: { "X-Custom": "kept", Accept: "text/plain", "X-Originality": "kept" } });
    expect(gate.origin.last().headers).toMatchObject({ "x-custom": "kept", accept: "text/plain", "x-originality": "kept" });
  });
});
