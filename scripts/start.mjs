// `npm start`: the gate (`wrangler dev`, local KV, no account, no network)
// in front of the demo origin (demo/origin.mjs). Creates `.dev.vars` on the
// first run. Ctrl-C stops both; if either one exits, the other is stopped too.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { DEV_SECRETS, DEV_VARS_PATH, REPO_ROOT, ensureDevVars } from "./dev-vars.mjs";
import { READY_TIMEOUT_SECONDS, createSupervisor, waitForGate, wranglerDev } from "./lib/dev-stack.mjs";
import { demoIdentityProvider } from "../demo/idp.mjs";

const GATE_PORT = Number(process.env.GATE_PORT ?? 8787);
const DEMO_PORT = Number(process.env.DEMO_PORT ?? 8788);
const GATE_URL = `http://localhost:${GATE_PORT}`;
/**
 * GATE_CONFIG: another wrangler config for the gate (`wrangler dev -c`), such as the browser
 * tests' one with short session timings. wrangler reads the `.dev.vars` beside the config it
 * is given, so that file holds the secrets then, and the demo origin signs with its secret.
 */
const GATE_CONFIG = process.env.GATE_CONFIG ? resolve(process.env.GATE_CONFIG) : undefined;
const SECRETS_PATH = GATE_CONFIG ? join(dirname(GATE_CONFIG), ".dev.vars") : DEV_VARS_PATH;
const MIN_SECRET_BYTES = 32;

const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code, text) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
const supervisor = createSupervisor();
/** The demo identity provider (demo/idp.mjs) and what the gate and the origin need for it; DEMO_IDP=0 turns it off. */
const idp = demoIdentityProvider({ root: REPO_ROOT, gatePort: GATE_PORT, configPath: GATE_CONFIG ?? join(REPO_ROOT, "wrangler.toml") });

function banner() {
  const rows = [
    ["gate", `${GATE_URL}/`, "open this one: the public home page"],
    ["log in", `${GATE_URL}/login`, "any name, any non-empty password"],
    ...(idp ? [["provider", idp.issuer, "the demo identity provider: alice or bob (the button on /login)"]] : []),
    ["dashboard", `${GATE_URL}/dashboard`, "needs a session; shows the X-Gate-* headers"],
    ["admin", `${GATE_URL}/admin/`, 'needs role "admin" and a login < 10 min old'],
    ["session", `${GATE_URL}/_gate/session`, "the gate's view of your session (JSON)"],
    ["origin", `http://127.0.0.1:${DEMO_PORT}/`, "the demo origin itself, without the gate"],
  ];
  const width = Math.max(...rows.map(([, url]) => url.length));
  console.log(
    [
      "",
      paint("1", "Gatehouse is running in local mode (KV under .wrangler/state, no Cloudflare account)"),
      "",
      ...rows.map(([name, url, note]) => `  ${name.padEnd(10)} ${url.padEnd(width)}  ${paint("2", note)}`),
      "",
      `  secrets    ${SECRETS_PATH} (local development only, never commit)`,
      "  Ctrl-C stops both.",
      "",
    ].join("\n"),
  );
}

function checkSecrets(vars) {
  const problems = DEV_SECRETS.filter((name) => Buffer.byteLength(vars[name] ?? "") < MIN_SECRET_BYTES);
  if (problems.length > 0) {
    console.warn(
      paint("33", `warning: ${SECRETS_PATH} has no secret of at least ${MIN_SECRET_BYTES} bytes for ${problems.join(", ")}; ` +
        "the gate will answer 500 misconfigured. Delete the file to have new secrets generated."),
    );
  }
}

async function main() {
  const existed = existsSync(SECRETS_PATH);
  const vars = ensureDevVars(SECRETS_PATH);
  console.log(existed ? `using secrets from ${SECRETS_PATH}` : `created ${SECRETS_PATH} with fresh random secrets (local only)`);
  checkSecrets(vars);

  // The origin signs X-Gate-Login with the secret wrangler gives the gate, even if the shell has another.
  supervisor.run(paint("36", "[origin]".padEnd(8)), process.execPath, [join(REPO_ROOT, "demo", "origin.mjs")], {
    DEMO_PORT: String(DEMO_PORT),
    GATE_ORIGIN_SECRET: vars.GATE_ORIGIN_SECRET ?? "",
    ...idp?.originEnv,
  });
  if (idp) supervisor.run(paint("33", "[idp]".padEnd(8)), process.execPath, idp.args, idp.env);

  const extra = GATE_CONFIG ? ["--config", GATE_CONFIG] : [];
  // wrangler.toml points ORIGIN_URL at the default port; follow DEMO_PORT when it is overridden.
  if (process.env.DEMO_PORT) extra.push("--var", `ORIGIN_URL:http://localhost:${DEMO_PORT}`);
  // GATE from the config, plus GATE.oidc.demo (so edits to GATE in the config apply at the next start).
  if (idp) extra.push(...idp.wranglerArgs);
  const gate = wranglerDev(GATE_PORT, extra);
  supervisor.run(paint("35", "[gate]".padEnd(8)), gate.command, gate.args, gate.env);

  const state = await waitForGate(GATE_PORT, () => supervisor.stopping);
  if (supervisor.stopping) return;
  if (state !== "timeout") banner();
  if (state === "misconfigured") {
    console.warn(paint("33", "warning: the gate is MISCONFIGURED and answers 500 to every request; the [gate] config.invalid lines above say why " +
      "(also: npm run check-config). Fix wrangler.toml or .dev.vars and save: wrangler reloads."));
  }
  if (state === "timeout") console.warn(paint("33", `the gate did not answer ${GATE_URL}/_gate/health within ${READY_TIMEOUT_SECONDS} s; see the [gate] lines above`));
}

main().catch((error) => {
  console.error(error);
  supervisor.stop(1);
});
