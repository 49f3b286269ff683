import { describe, expect, it } from "vitest";
import type { OidcProvider } from "../../src/config/types";
import { claimAt, identityOf, keptClaims, rolesOf } from "../../src/oidc/claims";
import { OidcFailure } from "../../src/oidc/failure";
import { cookie, tokenFrom } from "../helpers/gate";
import { control, createOidcGate, issuerOf, logInWithProvider } from "./helpers";

const PROVIDER: OidcProvider = {
  name: "corp",
  issuer: "https://login.example",
  clientId: "gate",
  scopes: ["openid"],
  userClaim: "sub",
  subPrefix: "corp:",
  allowedEmailDomains: [],
  allowedUsers: [],
};

const reasonOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return error instanceof OidcFailure ? `${error.kind}:${error.reason}` : String(error);
  }
  return "passed";
};

describe("claimAt", () => {
  it("reads a claim by name, a namespaced name with dots as written, and a dotted path through objects", () => {
    const claims = { groups: ["a"], "https://example.com/roles": ["r"], realm_access: { roles: ["admin"] }, list: [{ x: 1 }] };
    expect(claimAt(claims, "groups")).toEqual(["a"]);
    expect(claimAt(claims, "https://example.com/roles")).toEqual(["r"]);
    expect(claimAt(claims, "realm_access.roles")).toEqual(["admin"]);
    expect(claimAt(claims, "realm_access.nope")).toBeUndefined();
    expect(claimAt(claims, "list.0")).toBeUndefined();
    expect(claimAt(claims, "realm_access.roles.length")).toBeUndefined();
    expect(claimAt(claims, "__proto__")).toBeUndefined();
    expect(claimAt(claims, "realm_access.constructor")).toBeUndefined();
  });
});

describe("rolesOf", () => {
  it("takes a string as one role and a list's strings, dropping what is not a string or fails the identity rules", () => {
    expect(rolesOf("admin")).toEqual({ roles: ["admin"], dropped: 0 });
    expect(rolesOf(["a", 1, null, { x: 1 }, "b,c", " padded", "ok", "ok", "/team/sub"])).toEqual({ roles: ["a", "ok", "/team/sub"], dropped: 6 });
    expect(rolesOf(undefined)).toEqual({ roles: [], dropped: 0 });
    expect(rolesOf({ admin: true })).toEqual({ roles: [], dropped: 0 });
  });

  it("refuses more than 100 roles rather than choosing which to drop", () => {
    expect(reasonOf(() => rolesOf(Array.from({ length: 101 }, (_, i) => `r${i}`)))).toBe("unauthenticated:identity_invalid");
  });
});

describe("keptClaims", () => {
  it("keeps only the documented claims, strings of at most 256 characters and a boolean email_verified", () => {
    const kept = keptClaims({
      email: "a@x",
      email_verified: "true",
      name: "n".repeat(257),
      preferred_username: "a",
      given_name: "A",
      family_name: "B",
      groups: ["g"],
      sid: "s",
      at_hash: "h",
    });
    expect(kept).toEqual({ email: "a@x", preferred_username: "a", given_name: "A", family_name: "B" });
  });
});

describe("identityOf", () => {
  it("maps the user claim, roles, kept claims, the provider and its sid", () => {
    const { identity } = identityOf(
      { ...PROVIDER, rolesClaim: "realm_access.roles" },
      { sub: "u1", sid: "s1", email: "u@x", realm_access: { roles: ["admin"] } },
    );
    expect(identity).toEqual({ sub: "corp:u1", roles: ["admin"], claims: { email: "u@x" }, idp: "corp", idpSid: "s1" });
  });

  it.each([
    [{ sub: "u1" }, { userClaim: "email" }, "unauthenticated:user_claim_missing"],
    [{ sub: "u1", email: "u@x", email_verified: "true" }, { userClaim: "email" }, "unauthenticated:email_unverified"],
    [{ sub: "u1 " }, {}, "unauthenticated:identity_invalid"],
    [{ sub: "x".repeat(257) }, {}, "unauthenticated:identity_invalid"],
    [{ sub: 42 }, {}, "unauthenticated:user_claim_missing"],
    [{ sub: "u1", email: "u@x.example", email_verified: true }, { allowedEmailDomains: ["example"] }, "forbidden:email_domain_not_allowed"],
    [{ sub: "u1", email: "u@sub.example", email_verified: true }, { allowedEmailDomains: ["example"] }, "forbidden:email_domain_not_allowed"],
    [{ sub: "u1", email: "u@example" }, { allowedEmailDomains: ["example"] }, "forbidden:email_domain_unverified"],
    [{ sub: "u1", email: "u@EXAMPLE", email_verified: true }, { allowedEmailDomains: ["example"] }, "passed"],
    [{ sub: "u1" }, { allowedUsers: ["U1"] }, "forbidden:user_not_allowed"],
    [{ sub: "u1", email: "U@X", email_verified: true }, { userClaim: "email", allowedUsers: ["u@x"] }, "passed"],
    [{ sub: "u1", email: "u@y", email_verified: true }, { allowedEmailDomains: ["y"], allowedUsers: ["u2"] }, "forbidden:user_not_allowed"],
  ])("%j with %j: %s", (claims, provider, expected) => {
    expect(reasonOf(() => identityOf({ ...PROVIDER, ...provider }, claims))).toBe(expected);
  });
});

describe("roles through the real provider", () => {
  it("keeps the string roles of a mixed groups claim and drops the rest", async () => {
    await control(issuerOf(), "users", { users: [{ sub: "mixed-roles-dave", groups: ["ops", 7, "a,b", "", "ops"] }] });
    const gate = await createOidcGate();
    const { response } = await logInWithProvider(gate, { user: "mixed-roles-dave" });
    const session = await (await gate.request("/_gate/session", { headers: cookie(tokenFrom(response) as string) })).json();
    expect(session).toMatchObject({ sub: "corp:mixed-roles-dave", roles: ["ops"] });
    expect(gate.events("oidc.login")[0]).toMatchObject({ roles: 1, dropped_roles: 4 });
  });
});
