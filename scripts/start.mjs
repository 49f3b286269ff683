// `npm start`: the gate (`wrangler dev`, local KV, no account, no network)
// in front of the demo origin (demo/origin.mjs). Creates `.dev.vars` on the
// first run. Ctrl-C stops both; if either one exits, the other is stopped too.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { DEV_SECRETS, DEV_VARS_PATH, REPO_ROOT, ensureDevVars } from "./dev-vars.mjs";

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
const READY_TIMEOUT_MS = 60_000;
/** How long a child gets to exit after SIGTERM before SIGKILL. */
const KILL_GRACE_MS = 5_000;
const MIN_SECRET_BYTES = 32;

const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code, text) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);

/** Copies a child's output line by line, each line prefixed with its name. */
function prefixOutput(stream, label, target) {
  createInterface({ input: stream, crlfDelay: Infinity }).on("line", (line) => target.write(`${label} ${line}\n`));
}

const children = [];
let stopping = false;

/** Starts a child with piped, prefixed output; when it exits unexpectedly, everything stops. */
function run(name, code, command, args, env) {
  const child = spawn(command, args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const label = paint(code, `[${name}]`.padEnd(8));
  prefixOutput(child.stdout, label, process.stdout);
  prefixOutput(child.stderr, label, process.stderr);
  child.on("error", (error) => {
    console.error(`${label} could not start: ${error.message}`);
    stop(1);
  });
  child.on("exit", (status, signal) => {
    child.exited = true;
    if (stopping) return;
    console.error(`${label} exited (${signal ?? `code ${status}`}); stopping.`);
    stop(status || 1);
  });
  children.push(child);
  return child;
}

/** Stops every child (SIGTERM, then SIGKILL after a grace period) and exits. */
function stop(code) {
  if (stopping) return;
  stopping = true;
  const alive = children.filter((child) => !child.exited && child.exitCode === null && child.pid);
  for (const child of alive) child.kill("SIGTERM");
  setTimeout(() => {
    for (const child of alive) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    process.exit(code);
  }, KILL_GRACE_MS);
  Promise.all(alive.map((child) => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once("exit", resolve))))).then(
    () => process.exit(code),
  );
}

/**
 * Waits until the gate answers its health endpoint: "ready", "misconfigured"
 * (it answers 500 to everything until wrangler.toml or .dev.vars is fixed;
 * wrangler reloads on save), or "timeout".
 */
async function waitForGate() {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!stopping && Date.now() < deadline) {
    try {
      const response = await fetch(`http://127.0.0.1:${GATE_PORT}/_gate/health`, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return "ready";
      const body = await response.json().catch(() => ({}));
      if (body.error === "misconfigured") return "misconfigured";
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return "timeout";
}

function banner() {
  const rows = [
    ["gate", `${GATE_URL}/`, "open this one: the public home page"],
    ["log in", `${GATE_URL}/login`, "any name, any non-empty password"],
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

  process.on("SIGINT", () => stop(0));
  process.on("SIGTERM", () => stop(0));
  process.on("SIGHUP", () => stop(0));
  // `npm start` runs us under `sh -c`; a SIGTERM sent to npm kills the shell without
  // passing it on, so notice being orphaned rather than leaving the servers running.
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && stop(0), 1_000).unref();

  // The origin signs X-Gate-Login with the secret wrangler gives the gate, even if the shell has another.
  run("origin", "36", process.execPath, [join(REPO_ROOT, "demo", "origin.mjs")], {
    DEMO_PORT: String(DEMO_PORT),
    GATE_ORIGIN_SECRET: vars.GATE_ORIGIN_SECRET ?? "",
  });

  const wrangler = join(REPO_ROOT, "node_modules", ".bin", process.platform === "win32" ? "wrangler.cmd" : "wrangler");
  const args = ["dev", "--local", "--ip", "127.0.0.1", "--port", String(GATE_PORT), "--show-interactive-dev-session=false"];
  if (GATE_CONFIG) args.push("--config", GATE_CONFIG);
  // wrangler.toml points ORIGIN_URL at the default port; follow DEMO_PORT when it is overridden.
  if (process.env.DEMO_PORT) args.push("--var", `ORIGIN_URL:http://localhost:${DEMO_PORT}`);
  run("gate", "35", wrangler, args, {
    // Offline and non-interactive: no telemetry, no error reports, no cf.json download (the
    // Worker gets a placeholder request.cf), and no banner, whose update check asks the npm registry.
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_SEND_ERROR_REPORTS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_HIDE_BANNER: "true",
  });

  const state = await waitForGate();
  if (stopping) return;
  if (state !== "timeout") banner();
  if (state === "misconfigured") {
    console.warn(paint("33", "warning: the gate is MISCONFIGURED and answers 500 to every request; the [gate] config.invalid lines above say why " +
      "(also: npm run check-config). Fix wrangler.toml or .dev.vars and save: wrangler reloads."));
  }
  if (state === "timeout") console.warn(paint("33", `the gate did not answer ${GATE_URL}/_gate/health within ${READY_TIMEOUT_MS / 1000} s; see the [gate] lines above`));
}

main().catch((error) => {
  console.error(error);
  stop(1);
});
