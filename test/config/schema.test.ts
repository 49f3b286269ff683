import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import committedSchema from "../../schema.json";
import committedWrangler from "../../wrangler.schema.json";
import committedType from "../../src/config/gate-config.ts?raw";
import type { GateConfig } from "gatehouse-edge";
import { parseConfig } from "../../src/config/parse";
import { gateConfigSource, gateJsonSchema, wranglerJsonSchema } from "../../src/config/schema/emit";
import { GATE } from "../../src/config/schema/gate";

type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  default?: unknown;
  description?: string;
};

/** Every table of the schema with its path: `GATE`, `GATE.session`, `GATE.routes[]`, `GATE.oidc.*`. */
function tables(schema: Schema, path = "GATE"): Array<[string, Schema]> {
  const own: Array<[string, Schema]> = schema.properties ? [[path, schema]] : [];
  const children = Object.entries(schema.properties ?? {}).flatMap(([name, child]) => tables(child, `${path}.${name}`));
  const entries = typeof schema.additionalProperties === "object" ? tables(schema.additionalProperties, `${path}.*`) : [];
  const items = schema.items ? tables(schema.items, `${path}[]`) : [];
  return [...own, ...children, ...entries, ...items];
}

describe("the configuration schema", () => {
  it("is what the committed schema.json, wrangler.schema.json and GateConfig say (npm run schema)", () => {
    expect(committedSchema).toEqual(gateJsonSchema());
    expect(committedWrangler).toEqual(wranglerJsonSchema("../wrangler/config-schema.json", "./schema.json"));
    expect(committedType).toBe(gateConfigSource());
  });

  it("describes every key and every table", () => {
    for (const [path, table] of tables(GATE.schema as Schema)) {
      for (const [name, field] of Object.entries(table.properties ?? {})) expect(field.description, `${path}.${name}`).toMatch(/\w/);
    }
  });

  it("lists exactly the keys the parser accepts, at every level", () => {
    const probes: Array<[string, unknown]> = [
      ["GATE", { bogus_key: 1 }],
      ["GATE.session", { session: { bogus_key: 1 } }],
      ["GATE.cookie", { cookie: { bogus_key: 1 } }],
      ["GATE.assertion", { assertion: { bogus_key: 1 } }],
      ["GATE.websocket", { websocket: { bogus_key: 1 } }],
      ["GATE.routes[]", { routes: [{ path: "/x", bogus_key: 1 }] }],
      ["GATE.rate_limits.*", { rate_limits: { default: { limit: 1, bogus_key: 1 } } }],
      ["GATE.oidc.*", { oidc: { corp: { issuer: "https://login.example", client_id: "x", bogus_key: 1 } } }],
    ];
    const byPath = new Map(tables(GATE.schema as Schema));
    for (const [path, gate] of probes) {
      const parsed = parseConfig({
        ...env,
        SESSION_STORE: "redis",
        UPSTASH_REDIS_REST_URL: "https://x.upstash.io",
        UPSTASH_REDIS_REST_TOKEN: "t",
        GATE: gate,
      });
      const problem = parsed.ok ? "" : (parsed.problems.find((line) => line.includes("bogus_key")) ?? "");
      const listed = /expected one of ([^)]*)\)/.exec(problem)?.[1].split(", ");
      expect(listed, path).toEqual(Object.keys(byPath.get(path)?.properties ?? {}));
    }
  });

  it("gives as defaults what the parser uses when a key is absent", () => {
    const parsed = parseConfig({ ...env, GATE: {} });
    if (!parsed.ok) throw new Error(parsed.problems.join("\n"));
    const { config } = parsed;
    const session = (GATE.schema as Schema).properties?.session?.properties ?? {};
    expect(session.max_per_user.default).toBe(config.session.maxPerUser);
    expect(session.binding.default).toBe(config.session.binding);
    expect(session.device_bound.default).toBe(config.session.deviceBound);
    expect((GATE.schema as Schema).properties?.login_path.default).toBe(config.loginPath);
    expect((GATE.schema as Schema).properties?.ipv6_limit_prefix.default).toBe(config.ipv6LimitPrefix);
  });

  it("types the shipped wrangler.toml's [vars.GATE] as GateConfig", () => {
    const gate = env.GATE as GateConfig;
    const sample = {
      login_path: "/login",
      session: { idle_timeout: "30m", device_bound: "offer" },
      routes: [{ path: "/admin/*", roles: ["admin"], fresh: "10m" }],
      rate_limits: { default: { limit: 600, period: "1m", key: "ip" } },
      oidc: { corp: { issuer: "https://login.example.com", client_id: "gatehouse" } },
    } satisfies GateConfig;
    expect(parseConfig({ ...env, GATE: gate }).ok).toBe(true);
    expect(sample.routes[0].path).toBe("/admin/*");
  });
});
