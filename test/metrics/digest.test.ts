// The config digest of the admin health report, and the version baked into the build.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import pkg from "../../package.json";
import type { Env } from "../../src/config/env";
import { parseConfig } from "../../src/config/parse";
import type { Config } from "../../src/config/types";
import { canonicalConfig, configDigest } from "../../src/metrics/digest";
import { GATE_VERSION } from "../../src/metrics/version";
import { TEST_POLICY } from "../helpers/gate";

const OIDC = { corp: { issuer: "https://idp.example", client_id: "gate" } };

function configOf(overrides: Partial<Env> = {}, gate: Record<string, unknown> = {}): Config {
  const parsed = parseConfig({ ...env, ORIGIN_URL: "https://origin.example", GATE: { ...TEST_POLICY, ...gate }, ...overrides } as Env);
  if (!parsed.ok) throw new Error(parsed.problems.join("\n"));
  return parsed.config;
}

describe("the config digest", () => {
  it("is sha256 of the canonical parsed config, stable from one build to the next", async () => {
    expect(await configDigest(configOf())).toBe(await configDigest(configOf()));
    expect(await configDigest(configOf())).toMatch(/^sha256:[\w-]{43}$/);
  });

  it("changes with the policy", async () => {
    const base = await configDigest(configOf());
    expect(
      await configDigest(configOf({}, { login_path: "/signin", routes: [{ path: "/signin", access: "public" }, ...TEST_POLICY.routes] })),
    ).not.toBe(base);
    expect(await configDigest(configOf({}, { session: { ...TEST_POLICY.session, idle_timeout: "20m" } }))).not.toBe(base);
    expect(await configDigest(configOf({ ORIGIN_URL: "https://other.example" }))).not.toBe(base);
  });

  it("holds no secret, and does not change when one is rotated", async () => {
    const secrets = {
      GATE_SECRET: "rotated-gate-secret-0123456789abcdef0123456789abcdef",
      GATE_ORIGIN_SECRET: "rotated-origin-secret-0123456789abcdef0123456789ab",
      GATE_ADMIN_TOKEN: "rotated-admin-token-0123456789abcdef0123456789abcd",
      GATE_OIDC_CORP_CLIENT_SECRET: "rotated-client-secret-0123456789",
    };
    const before = configOf({ GATE_OIDC_CORP_CLIENT_SECRET: "first-client-secret-0123456789ab" }, { oidc: OIDC });
    const after = configOf(secrets, { oidc: OIDC });
    expect(await configDigest(after)).toBe(await configDigest(before));
    const text = JSON.stringify(canonicalConfig(after));
    for (const secret of [...Object.values(secrets), env.GATE_SECRET, env.GATE_ORIGIN_SECRET, env.GATE_ADMIN_TOKEN])
      expect(text).not.toContain(secret);
    expect(text).toContain("https://idp.example");
  });

  it("leaves out the Upstash token of a Redis store", () => {
    const redis = configOf({
      SESSION_STORE: "redis",
      UPSTASH_REDIS_REST_URL: "https://eu1.upstash.example",
      UPSTASH_REDIS_REST_TOKEN: "upstash-token-xyz",
    });
    const text = JSON.stringify(canonicalConfig(redis));
    expect(text).toContain("https://eu1.upstash.example");
    expect(text).not.toContain("upstash-token-xyz");
  });

  it("sorts keys, maps and sets, and stands runtime objects in as `true`", () => {
    expect(canonicalConfig({ b: new Set(["y", "x"]), a: new Map([["k", new URL("https://a.example/p")]]), c: { namespace: env.SESSIONS } })).toEqual({
      a: { k: "https://a.example/p" },
      b: ["x", "y"],
      c: { namespace: true },
    });
    expect(JSON.stringify(canonicalConfig({ z: 1, a: 2 }))).toBe('{"a":2,"z":1}');
  });
});

describe("the version", () => {
  it("is package.json's, baked in at build", () => {
    expect(GATE_VERSION).toBe(pkg.version);
  });
});
