// The browser tests' harness: the real gate (`wrangler dev`) in front of the
// real demo origin, both started by scripts/start.mjs, driven by Debian's
// Chromium through playwright-core. Nothing here reaches the network: the
// servers listen on 127.0.0.1 and Chromium runs with its background traffic off.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { parse, stringify } from "smol-toml";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** Debian's `chromium` package (`apt-get install -y chromium`); CHROMIUM_PATH overrides it. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** Headless, and off the network: no QUIC, no first-run, update, sync or other background requests, no DNS. */
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage", // containers often have a small /dev/shm
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  // No DNS at all: any host but the local ones fails at once (a test that goes wrong and
  // follows a redirect to evil.example ends on an error page, not on the network).
  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
];
export const COOKIE_NAME = "__Host-session";
/** A fresh machine's first `wrangler dev` bundles and starts workerd: allow for a slow one. */
const READY_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 10_000;
/** The browser tests are about browsers, not limits (test/ratelimit covers those): limits ×100. */
const LIMIT_FACTOR = 100;

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A port nobody listens on right now, on 127.0.0.1. */
export async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A wrangler config for the test: the repository's wrangler.toml, read now (so it
 * never drifts from the shipped one), with `session` timings replaced, limits
 * raised (by `limitFactor`) and `main` made absolute, `vars` added, written into a fresh
 * directory. wrangler reads the `.dev.vars` beside it (start.mjs creates it) and keeps
 * local KV under it.
 */
function writeTestConfig(dir, session, gate, vars = {}, limitFactor = LIMIT_FACTOR) {
  const config = parse(readFileSync(join(ROOT, "wrangler.toml"), "utf8"));
  config.main = join(ROOT, config.main);
  config.vars = { ...config.vars, ...vars };
  config.vars.GATE = { ...config.vars.GATE, ...gate };
  config.vars.GATE.session = { ...config.vars.GATE.session, ...session };
  for (const limiter of Object.values(config.vars.GATE.rate_limits ?? {})) limiter.limit *= limitFactor;
  for (const binding of config.ratelimits ?? []) binding.simple.limit *= limitFactor;
  const path = join(dir, "wrangler.toml");
  writeFileSync(path, stringify(config));
  return path;
}

/**
 * Starts `node scripts/start.mjs` (gate + demo origin) on free ports with a test
 * config (`gate` replaces keys of GATE, `session` of GATE.session; `vars` are added
 * to the Worker's [vars], such as SESSION_STORE; `env` goes to both processes;
 * `limitFactor` replaces the ×100 on every limit, 1 for a test about limits), in its
 * own process group, and waits for `/_gate/health`. With `idp`, the demo identity
 * provider runs too (GATE.oidc.demo, on a free port: `gate.idpUrl`); without it, it
 * is turned off (DEMO_IDP=0).
 * Returns the gate's URL, the admin token, what the processes printed, and `stop()`.
 */
export async function startGate({ session = {}, gate: policy = {}, env = {}, vars = {}, limitFactor = LIMIT_FACTOR, idp = false } = {}) {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`);
  }
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-browser-"));
  const config = writeTestConfig(dir, session, policy, vars, limitFactor);
  const [gatePort, demoPort] = [await freePort(), await freePort()];
  const idpPort = idp ? await freePort() : undefined;
  const idpEnv = idpPort ? { IDP_PORT: String(idpPort) } : { DEMO_IDP: "0" };
  const child = spawn(process.execPath, [join(ROOT, "scripts", "start.mjs")], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...idpEnv, ...env, GATE_CONFIG: config, GATE_PORT: String(gatePort), DEMO_PORT: String(demoPort), NO_COLOR: "1" },
  });
  const lines = [];
  for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream, crlfDelay: Infinity }).on("line", (line) => lines.push(line));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  let stopped = false;
  const killGroup = (signal) => {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  // Should the test process die first, take the servers with it.
  const onExit = () => killGroup("SIGKILL");
  process.once("exit", onExit);

  const gate = {
    url: `http://localhost:${gatePort}`,
    port: gatePort,
    /** The demo identity provider's issuer, with `idp`. */
    idpUrl: idpPort ? `http://127.0.0.1:${idpPort}` : undefined,
    adminToken: undefined,
    output: () => lines.join("\n"),
    /** The gate's JSON log events (contract §7), in order. */
    events: (name) =>
      lines
        .map((line) => /^\[gate\]\s+(\{"time".*\})$/.exec(line)?.[1])
        .filter(Boolean)
        .map((json) => JSON.parse(json))
        .filter((event) => !name || event.event === name),
    /** Requests the demo origin answered, as `METHOD /path → status`. */
    originRequests: () => lines.map((line) => /^\[origin\]\s+([A-Z]+ \S+ → \d{3})/.exec(line)?.[1]).filter(Boolean),
    /**
     * Waits for the output to catch up (it arrives through pipes): until `check()` holds,
     * at most `ms`. Resolves to whether it held; pass `() => false` to wait out `ms`.
     */
    async settle(check = () => false, ms = 500) {
      const deadline = Date.now() + ms;
      while (!check() && Date.now() < deadline) await sleep(25);
      return check();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      killGroup("SIGTERM");
      const timer = setTimeout(() => killGroup("SIGKILL"), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
      killGroup("SIGKILL"); // anything of the group that ignored SIGTERM
      process.off("exit", onExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitForHealth(gatePort, child);
    gate.adminToken = /^GATE_ADMIN_TOKEN=(.*)$/m.exec(readFileSync(join(dir, ".dev.vars"), "utf8"))?.[1];
  } catch (error) {
    await gate.stop();
    throw new Error(`${error.message}\n--- output of scripts/start.mjs ---\n${lines.join("\n")}`);
  }
  return gate;
}

async function waitForHealth(port, child) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error("scripts/start.mjs exited before the gate was ready");
    try {
      const response = await fetch(`http://127.0.0.1:${port}/_gate/health`, { signal: AbortSignal.timeout(2_000) });
      const body = await response.text();
      if (response.ok) return;
      if (body.includes("misconfigured")) throw new Error(`the gate is misconfigured: ${body}`);
    } catch (error) {
      if (String(error.message).startsWith("the gate is misconfigured")) throw error;
    }
    await sleep(250);
  }
  throw new Error(`the gate did not answer /_gate/health within ${READY_TIMEOUT_MS / 1000} s`);
}

/** Chromium with a fresh profile in a temporary directory; `close()` removes it. */
export async function openBrowser() {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-chromium-"));
  const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Logs in through the demo origin's form, as a person would: opens `from` (the
 * login page by default), types, submits, and waits to leave the login page.
 */
export async function logIn(page, gate, { user = "alice", from = "/login" } = {}) {
  if (from) await page.goto(gate.url + from);
  await page.fill("#username", user);
  await page.fill("#password", "correct horse");
  await page.click('form[action="/login"] button[type=submit]');
  await page.waitForURL((url) => url.pathname !== "/login");
}

/** The session cookie as the browser stores it, or `undefined`. */
export async function sessionCookie(context, gate) {
  return (await context.cookies(gate.url)).find((cookie) => cookie.name === COOKIE_NAME);
}

/** `GET /_gate/session` from the page, with the browser's own cookies: `{status, body}`. */
export function gateSession(page) {
  return page.evaluate(async () => {
    const response = await fetch("/_gate/session", { headers: { Accept: "application/json" } });
    return { status: response.status, body: await response.json() };
  });
}

/** The `x-gate-user` cell of the demo dashboard, or `undefined` when the page is not the dashboard. */
export async function dashboardUser(page) {
  const cell = page.locator("tr", { has: page.locator("th", { hasText: /^x-gate-user$/ }) }).locator("td code");
  return (await cell.count()) === 1 ? cell.textContent() : undefined;
}

/**
 * A second web site on 127.0.0.1: serves `html(request)` at every path. Reached as
 * `http://localhost:<port>` it is another origin on the same site as the gate;
 * as `http://127.0.0.1:<port>` it is another site.
 */
export async function startSite(html, port = 0) {
  const server = createServer((request, response) => {
    response.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" });
    response.end(html(request));
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    port: server.address().port,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
