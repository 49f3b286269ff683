import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse";

const BASE = { ...env, ORIGIN_URL: "https://origin.example" };
const problemsOf = (gate: unknown, extra: Record<string, unknown> = {}) => {
  const parsed = parseConfig({ ...BASE, ...extra, GATE: gate });
  return parsed.ok ? [] : parsed.problems;
};
const configOf = (gate: unknown, extra: Record<string, unknown> = {}) => {
  const parsed = parseConfig({ ...BASE, ...extra, GATE: gate });
  if (!parsed.ok) throw new Error(parsed.problems.join("\n"));
  return parsed.config;
};

describe("GATE.oidc and GATE.login_provider", () => {
  const corp = { issuer: "https://login.example.com", client_id: "gatehouse" };

  it("reads a provider with its defaults and its client secret", () => {
    const config = configOf({ oidc: { corp }, login_provider: "corp" }, { GATE_OIDC_CORP_CLIENT_SECRET: "s3cret" });
    expect(config.oidc.get("corp")).toEqual({
      name: "corp",
      issuer: "https://login.example.com",
      clientId: "gatehouse",
      clientSecret: "s3cret",
      scopes: ["openid", "email", "profile"],
      userClaim: "sub",
      subPrefix: "corp:",
      rolesClaim: undefined,
      allowedEmailDomains: [],
      allowedUsers: [],
    });
    expect(config.loginProvider).toBe("corp");
  });

  it("prefixes a provider's subs with its name, except for a verified email, unless sub_prefix says otherwise", () => {
    const base = { issuer: "https://login.example.com", client_id: "gatehouse" };
    const config = configOf({
      oidc: { a: base, b: { ...base, user_claim: "email" }, c: { ...base, sub_prefix: "" }, d: { ...base, sub_prefix: "staff/" } },
    });
    expect(["a", "b", "c", "d"].map((name) => config.oidc.get(name)?.subPrefix)).toEqual(["a:", "", "", "staff/"]);
  });

  it("makes a provider without a secret a public client, and lower-cases allowed domains", () => {
    const config = configOf({ oidc: { corp: { ...corp, allowed_email_domains: ["Example.COM"], roles_claim: "realm_access.roles" } } });
    expect(config.oidc.get("corp")).toMatchObject({
      clientSecret: undefined,
      allowedEmailDomains: ["example.com"],
      rolesClaim: "realm_access.roles",
    });
  });

  it.each([
    [
      "an http issuer outside localhost",
      { oidc: { corp: { ...corp, issuer: "http://login.example.com" } } },
      /GATE\.oidc\.corp\.issuer: expected the provider's https issuer URL/,
    ],
    ["an issuer with a query", { oidc: { corp: { ...corp, issuer: "https://login.example.com/?x=1" } } }, /GATE\.oidc\.corp\.issuer: expected/],
    ["no issuer", { oidc: { corp: { client_id: "x" } } }, /GATE\.oidc\.corp\.issuer: expected the provider's https issuer URL .* got nothing/],
    ["no client_id", { oidc: { corp: { issuer: corp.issuer } } }, /GATE\.oidc\.corp\.client_id: expected a non-empty string, got nothing/],
    ["scopes without openid", { oidc: { corp: { ...corp, scopes: ["email"] } } }, /GATE\.oidc\.corp\.scopes: must contain "openid"/],
    ["a provider name with upper case", { oidc: { Corp: corp } }, /GATE\.oidc\.Corp: expected a provider name of 1 to 32 lower-case letters/],
    ["a provider that is not a table", { oidc: { corp: "https://login.example.com" } }, /GATE\.oidc\.corp: expected a table, got "https/],
    [
      "a login_provider no provider has",
      { oidc: { corp }, login_provider: "okta" },
      /GATE\.login_provider: expected the name of a provider in GATE\.oidc \(corp\), got "okta"/,
    ],
    [
      "a misspelt provider key",
      { oidc: { corp: { ...corp, clientid: "x" } } },
      /GATE\.oidc\.corp\.clientid: unknown key: did you mean "client_id"\?/,
    ],
  ])("refuses %s", (_label, gate, problem) => {
    expect(problemsOf(gate).join("\n")).toMatch(problem);
  });

  it("accepts an http issuer on localhost and 127.0.0.1 (a local provider)", () => {
    for (const issuer of ["http://localhost:4000", "http://127.0.0.1:4000/oidc"])
      expect(configOf({ oidc: { dev: { issuer, client_id: "x" } } }).oidc.get("dev")?.issuer).toBe(issuer);
  });
});

describe("the other keys of part two", () => {
  it("reads error_page, websocket.recheck, session.device_bound and device_cookie_ttl, and a route's device_bound", () => {
    const config = configOf({
      error_page: "/errors/gate",
      websocket: { recheck: "15s", max_rechecks: 40 },
      session: { device_bound: "require", device_cookie_ttl: "5m" },
      routes: [{ path: "/bank/*", device_bound: true }],
    });
    expect(config.errorPage).toBe("/errors/gate");
    expect(config.websocket).toEqual({ recheck: 15_000, maxRechecks: 40 });
    expect(config.session).toMatchObject({ deviceBound: "require", deviceCookieTtl: 300_000 });
    expect(config.routes[0].deviceBound).toBe(true);
  });

  it("defaults to DBSC offered, a 10-minute bound cookie and a 60-second WebSocket recheck", () => {
    const config = configOf(undefined);
    expect(config.session).toMatchObject({ deviceBound: "offer", deviceCookieTtl: 600_000 });
    expect(config.websocket).toEqual({ recheck: 60_000, maxRechecks: 250 });
    expect(config.errorPage).toBeUndefined();
  });

  it.each([
    ["an error_page that is a URL", { error_page: "https://evil.example/" }, /GATE\.error_page: expected a path on this host/],
    ["a recheck under a second", { websocket: { recheck: "0s" } }, /GATE\.websocket\.recheck: must be at least 1s/],
    [
      "a device_cookie_ttl under 3 minutes (Chrome would refresh without pause)",
      { session: { device_cookie_ttl: "2m" } },
      /GATE\.session\.device_cookie_ttl: must be at least 180s, got "2m"/,
    ],
    [
      "an unknown device_bound mode",
      { session: { device_bound: "always" } },
      /GATE\.session\.device_bound: expected one of "off", "offer", "require"/,
    ],
    [
      "a route device_bound that is not a boolean",
      { routes: [{ path: "/x", device_bound: "yes" }] },
      /GATE\.routes\[0\]\.device_bound: expected true or false/,
    ],
  ])("refuses %s", (_label, gate, problem) => {
    expect(problemsOf(gate).join("\n")).toMatch(problem);
  });
});
