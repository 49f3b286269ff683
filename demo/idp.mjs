// The demo identity provider of `npm start`: a real OpenID Provider
// (oidc-provider, the same harness the tests use: test/oidc/provider.mjs) on
// 127.0.0.1, offline, with two users, alice (roles user, admin) and bob (role
// user). Any password-less "login" is accepted: DEMO ONLY. The gate knows it
// as GATE.oidc.demo; the demo origin's login page offers a button for it.
//
// Imported by scripts/start.mjs for `demoIdentityProvider()` (how to run it and
// what the gate and the origin need); run as a script, it starts the provider.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parse } from "smol-toml";

/** The provider's name in GATE.oidc: its endpoints are /_gate/oidc/demo/…. */
export const DEMO_PROVIDER = "demo";
const CLIENT_ID = "gate-confidential";
const USERS = [
  { sub: "alice", email: "alice@example.com", email_verified: true, name: "Alice Example", preferred_username: "alice", groups: ["user", "admin"] },
  { sub: "bob", email: "bob@example.com", email_verified: true, name: "Bob Example", preferred_username: "bob", groups: ["user"] },
];

/** The gate's addresses the browser may use, each with its callback and post-logout page registered. */
const gateOrigins = (gatePort) => [`http://localhost:${gatePort}`, `http://127.0.0.1:${gatePort}`];

/** The GATE table wrangler would give the gate (from `configPath`), plus the demo provider. */
function gateWithProvider(configPath, issuer) {
  const gate = parse(readFileSync(configPath, "utf8")).vars?.GATE ?? {};
  const demo = { issuer, client_id: CLIENT_ID, scopes: ["openid", "email", "profile", "groups"], roles_claim: "groups" };
  return { ...gate, oidc: { ...gate.oidc, [DEMO_PROVIDER]: demo } };
}

/**
 * What `npm start` needs to run the demo provider beside the gate, or
 * `undefined` with DEMO_IDP=0: the node arguments and environment of the
 * provider's process, the `wrangler dev` arguments that give the gate
 * GATE.oidc.demo and its client secret (a fresh one per run), and the demo
 * origin's environment (it then shows the provider's button).
 */
export function demoIdentityProvider({ root, gatePort, configPath, env = process.env }) {
  if (env.DEMO_IDP === "0") return undefined;
  const port = Number(env.IDP_PORT ?? 8789);
  const issuer = `http://127.0.0.1:${port}`;
  const secret = randomBytes(24).toString("base64url");
  return {
    issuer,
    args: [join(root, "demo", "idp.mjs")],
    env: { IDP_PORT: String(port), IDP_CLIENT_SECRET: secret, GATE_PORT: String(gatePort) },
    wranglerArgs: ["--var", `GATE:${JSON.stringify(gateWithProvider(configPath, issuer))}`, "--var", `GATE_OIDC_DEMO_CLIENT_SECRET:${secret}`],
    originEnv: { DEMO_OIDC_PROVIDER: DEMO_PROVIDER },
  };
}

/** Starts the provider (IDP_PORT, IDP_CLIENT_SECRET, GATE_PORT from the environment). */
export async function startDemoIdp(env = process.env) {
  // Imported here, not above: start.mjs imports this file and must not load oidc-provider.
  const { startProvider } = await import("../test/oidc/provider.mjs");
  const origins = gateOrigins(Number(env.GATE_PORT ?? 8787));
  const provider = await startProvider({
    port: Number(env.IDP_PORT ?? 8789),
    clientId: CLIENT_ID,
    clientSecret: env.IDP_CLIENT_SECRET,
    redirectUris: origins.map((origin) => `${origin}/_gate/oidc/${DEMO_PROVIDER}/callback`),
    postLogoutRedirectUris: origins.map((origin) => `${origin}/login`),
    backchannelLogoutUri: `${origins[0]}/_gate/oidc/${DEMO_PROVIDER}/backchannel-logout`,
    users: USERS,
  });
  console.log(`demo identity provider listening on ${provider.issuer} (users: ${USERS.map((user) => user.sub).join(", ")}; no password)`);
  return provider;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  startDemoIdp().catch((error) => {
    console.error(error.message);
    process.exit(1);
  });
}
