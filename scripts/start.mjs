// `npm start`: the gate (`wrangler dev`, local KV, no account, no network)
// in front of the demo origin (demo/origin.mjs) and the demo identity provider
// (demo/idp.mjs); with ORIGIN_URL, the gate alone in front of your own app.
// `--store durable` (npm run dev:durable) keeps sessions in Durable Objects.
// Creates `.dev.vars` on the first run. Ctrl-C stops them all; if one exits,
// the others are stopped too.
import { existsSync, readFileSync } from "node:fs";
import { get as httpsGet } from "node:https";
import { dirname, join, resolve } from "node:path";
import { DEV_SECRETS, DEV_VARS_PATH, REPO_ROOT, ensureDevVars } from "./dev-vars.mjs";
import { READY_TIMEOUT_SECONDS, createSupervisor, waitForGate, wranglerDev } from "./lib/dev-stack.mjs";
import { demoIdentityProvider } from "../demo/idp.mjs";

const GATE_PORT = Number(process.env.GATE_PORT ?? 8787);
const DEMO_PORT = Number(process.env.DEMO_PORT ?? 8788);
/** ORIGIN_URL: the gate alone, in front of your own app at that URL (no demo origin, no demo provider). */
const OWN_ORIGIN = process.env.ORIGIN_URL;
/** `--store durable|redis|kv` (npm run dev:durable) or SESSION_STORE: the gate's store; KV by default. */
const flag = process.argv.indexOf("--store");
const STORE = (flag >= 0 ? process.argv[flag + 1] : process.env.SESSION_STORE) ?? "kv";
const STORES = { kv: "KV under .wrangler/state", durable: "Durable Objects under .wrangler/state" };
/**
 * GATE_HTTPS_CERT and GATE_HTTPS_KEY (PEM files): the gate listens on https with them
 * (`wrangler dev --local-protocol https`), as the DBSC browser test needs: Chromium does
 * device-bound sessions over https only.
 */
const HTTPS =
  process.env.GATE_HTTPS_CERT && process.env.GATE_HTTPS_KEY
    ? { cert: resolve(process.env.GATE_HTTPS_CERT), key: resolve(process.env.GATE_HTTPS_KEY) }
    : undefined;
const GATE_URL = `${HTTPS ? "https" : "http"}://localhost:${GATE_PORT}`;
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
const idp = OWN_ORIGIN
  ? undefined
  : demoIdentityProvider({ root: REPO_ROOT, gatePort: GATE_PORT, configPath: GATE_CONFIG ?? join(REPO_ROOT, "wrangler.toml") });

/** What `npm start` serves, as rows of the banner: the demo's pages, or (ORIGIN_URL) the gate in front of your app. */
function bannerRows(vars) {
  if (OWN_ORIGIN) {
    return [
      ["gate", `${GATE_URL}/`, `in front of ${OWN_ORIGIN} (ORIGIN_URL)`],
      ["session", `${GATE_URL}/_gate/session`, "the gate's view of your session (JSON)"],
      ["login", "X-Gate-Login", `your app signs it (HS256) with GATE_ORIGIN_SECRET = ${vars.GATE_ORIGIN_SECRET ?? "(unset)"}`],
    ];
  }
  return [
    ["gate", `${GATE_URL}/`, "open this one: the public home page"],
    ["log in", `${GATE_URL}/login`, "any name, any non-empty password"],
    ...(idp ? [["provider", idp.issuer, "the demo identity provider: alice or bob (the button on /login)"]] : []),
    ["dashboard", `${GATE_URL}/dashboard`, "needs a session; shows the X-Gate-* headers"],
    ["admin", `${GATE_URL}/admin/`, 'needs role "admin" and a login < 10 min old'],
    ["session", `${GATE_URL}/_gate/session`, "the gate's view of your session (JSON)"],
    ["origin", `http://127.0.0.1:${DEMO_PORT}/`, "the demo origin itself, without the gate"],
  ];
}

function banner(vars) {
  const rows = bannerRows(vars);
  const width = Math.max(...rows.map(([, url]) => url.length));
  console.log(
    [
      "",
      paint("1", `Gatehouse is running in local mode (sessions in ${STORES[STORE] ?? STORE}, no Cloudflare account)`),
      "",
      ...rows.map(([name, url, note]) => `  ${name.padEnd(10)} ${url.padEnd(width)}  ${paint("2", note)}`),
      "",
      `  secrets    ${SECRETS_PATH} (local development only, never commit)`,
      `  Ctrl-C stops ${OWN_ORIGIN ? "the gate" : "them all"}.`,
      "",
    ].join("\n"),
  );
}

function checkSecrets(vars) {
  const problems = DEV_SECRETS.filter((name) => Buffer.byteLength(vars[name] ?? "") < MIN_SECRET_BYTES);
  if (problems.length > 0) {
    console.warn(
      paint(
        "33",
        `warning: ${SECRETS_PATH} has no secret of at least ${MIN_SECRET_BYTES} bytes for ${problems.join(", ")}; ` +
          "the gate will answer 500 misconfigured. Delete the file to have new secrets generated.",
      ),
    );
  }
}

/** waitForGate for a gate on https (HTTPS), trusting its certificate: "ready", "misconfigured" or "timeout". */
async function waitForHttpsGate() {
  const ca = readFileSync(HTTPS.cert);
  const deadline = Date.now() + READY_TIMEOUT_SECONDS * 1_000;
  while (!supervisor.stopping && Date.now() < deadline) {
    const state = await new Promise((done) => {
      const options = { host: "127.0.0.1", port: GATE_PORT, path: "/_gate/health", servername: "localhost", ca, timeout: 2_000 };
      const request = httpsGet(options, (response) => {
        let body = "";
        response
          .on("data", (chunk) => (body += chunk))
          .on("end", () => done(response.statusCode === 200 ? "ready" : body.includes('"misconfigured"') ? "misconfigured" : undefined));
      });
      request.on("timeout", () => request.destroy()).on("error", () => done(undefined));
    });
    if (state) return state;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return "timeout";
}

async function main() {
  const existed = existsSync(SECRETS_PATH);
  const vars = ensureDevVars(SECRETS_PATH);
  console.log(existed ? `using secrets from ${SECRETS_PATH}` : `created ${SECRETS_PATH} with fresh random secrets (local only)`);
  checkSecrets(vars);

  // The origin signs X-Gate-Login with the secret wrangler gives the gate, even if the shell has another.
  if (!OWN_ORIGIN) {
    supervisor.run(paint("36", "[origin]".padEnd(8)), process.execPath, [join(REPO_ROOT, "demo", "origin.mjs")], {
      DEMO_PORT: String(DEMO_PORT),
      GATE_ORIGIN_SECRET: vars.GATE_ORIGIN_SECRET ?? "",
      ...idp?.originEnv,
      // On https, the origin fetches the gate's keys over https, trusting its certificate.
      ...(HTTPS && { GATE_PUBLIC_URL: GATE_URL, GATE_JWKS_URL: `https://127.0.0.1:${GATE_PORT}/_gate/jwks.json`, NODE_EXTRA_CA_CERTS: HTTPS.cert }),
    });
  }
  if (idp) supervisor.run(paint("33", "[idp]".padEnd(8)), process.execPath, idp.args, idp.env);

  const extra = GATE_CONFIG ? ["--config", GATE_CONFIG] : [];
  // wrangler.toml points ORIGIN_URL at the demo's default port; follow DEMO_PORT, or ORIGIN_URL for your own app.
  if (OWN_ORIGIN) extra.push("--var", `ORIGIN_URL:${OWN_ORIGIN}`);
  else if (process.env.DEMO_PORT) extra.push("--var", `ORIGIN_URL:http://localhost:${DEMO_PORT}`);
  if (STORE !== "kv") extra.push("--var", `SESSION_STORE:${STORE}`);
  // GATE from the config, plus GATE.oidc.demo (so edits to GATE in the config apply at the next start).
  if (idp) extra.push(...idp.wranglerArgs);
  if (HTTPS) extra.push("--local-protocol", "https", "--https-cert-path", HTTPS.cert, "--https-key-path", HTTPS.key);
  // Two wrangler devs starting at once would both take the inspector's default port 9229: the tests give each its own.
  if (process.env.GATE_INSPECTOR_PORT) extra.push("--inspector-port", process.env.GATE_INSPECTOR_PORT);
  const gate = wranglerDev(GATE_PORT, extra);
  supervisor.run(paint("35", "[gate]".padEnd(8)), gate.command, gate.args, gate.env);

  const state = HTTPS ? await waitForHttpsGate() : await waitForGate(GATE_PORT, () => supervisor.stopping);
  if (supervisor.stopping) return;
  if (state !== "timeout") banner(vars);
  if (state === "misconfigured") {
    console.warn(
      paint(
        "33",
        "warning: the gate is MISCONFIGURED and answers 500 to every request; the [gate] config.invalid lines above say why " +
          "(also: npm run check-config). Fix wrangler.toml or .dev.vars and save: wrangler reloads.",
      ),
    );
  }
  if (state === "timeout")
    console.warn(paint("33", `the gate did not answer ${GATE_URL}/_gate/health within ${READY_TIMEOUT_SECONDS} s; see the [gate] lines above`));
}

main().catch((error) => {
  console.error(error);
  supervisor.stop(1);
});
