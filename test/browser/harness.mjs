// The browser tests' harness: the real gate (`wrangler dev`) in front of the
// real demo origin, both started by scripts/start.mjs, driven by Debian's
// Chromium through playwright-core. Nothing here reaches the network: the
// servers listen on 127.0.0.1 and Chromium runs with its background traffic off.
import { execFileSync, spawn } from "node:child_process";
import { X509Certificate, createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { parse, stringify } from "smol-toml";
import { freePort } from "../redis/redis-server.mjs";

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

/** A port nobody listens on right now, on 127.0.0.1 (below the ephemeral range). */
export { freePort };

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
 * is turned off (DEMO_IDP=0). With `https`, the gate listens on https://localhost with a
 * self-signed certificate made for the run (`gate.tls`: its PEM, and the base64 SHA-256
 * of its key for Chromium's --ignore-certificate-errors-spki-list): DBSC needs https.
 * Returns the gate's URL, the admin token, what the processes printed, and `stop()`.
 */
export async function startGate({
  session = {},
  gate: policy = {},
  env = {},
  vars = {},
  limitFactor = LIMIT_FACTOR,
  idp = false,
  https = false,
} = {}) {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`);
  }
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-browser-"));
  const config = writeTestConfig(dir, session, policy, vars, limitFactor);
  const [gatePort, demoPort, inspectorPort] = [await freePort(), await freePort(), await freePort()];
  const idpPort = idp ? await freePort() : undefined;
  const idpEnv = idpPort ? { IDP_PORT: String(idpPort) } : { DEMO_IDP: "0" };
  const tls = https ? selfSignedCertificate(dir) : undefined;
  const tlsEnv = tls ? { GATE_HTTPS_CERT: tls.certPath, GATE_HTTPS_KEY: tls.keyPath } : {};
  const child = spawn(process.execPath, [join(ROOT, "scripts", "start.mjs")], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      ...idpEnv,
      ...tlsEnv,
      ...env,
      GATE_CONFIG: config,
      GATE_PORT: String(gatePort),
      GATE_INSPECTOR_PORT: String(inspectorPort),
      DEMO_PORT: String(demoPort),
      NO_COLOR: "1",
    },
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
    url: `${tls ? "https" : "http"}://localhost:${gatePort}`,
    port: gatePort,
    /** With `https`: the certificate (PEM) and its key's pin. */
    tls: tls && { pem: tls.pem, spki: tls.spki },
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
    await waitForHealth(gatePort, child, tls?.pem);
    gate.adminToken = /^GATE_ADMIN_TOKEN=(.*)$/m.exec(readFileSync(join(dir, ".dev.vars"), "utf8"))?.[1];
  } catch (error) {
    await gate.stop();
    throw new Error(`${error.message}\n--- output of scripts/start.mjs ---\n${lines.join("\n")}`);
  }
  return gate;
}

async function waitForHealth(port, child, pem) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error("scripts/start.mjs exited before the gate was ready");
    try {
      const response = pem
        ? await requestOverTls(`https://localhost:${port}/_gate/health`, pem)
        : await fetch(`http://127.0.0.1:${port}/_gate/health`, { signal: AbortSignal.timeout(2_000) });
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

/** A P-256 certificate for localhost and 127.0.0.1, valid two days, in `dir`; and the base64 SHA-256 of its public key. */
function selfSignedCertificate(dir) {
  const keyPath = join(dir, "tls-key.pem");
  const certPath = join(dir, "tls-cert.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      keyPath,
      "-out",
      certPath,
      "-days",
      "2",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
    ],
    { stdio: "ignore" },
  );
  const pem = readFileSync(certPath, "utf8");
  const spki = new X509Certificate(pem).publicKey.export({ type: "spki", format: "der" });
  return { keyPath, certPath, pem, spki: createHash("sha256").update(spki).digest("base64") };
}

/**
 * A request from Node over https to a server whose certificate is `pem`, as a
 * client outside the browser sends it: `{ status, ok, headers, setCookies, text() }`.
 */
export function requestOverTls(url, pem, { method = "GET", headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(url, { method, headers, ca: pem, servername: new URL(url).hostname, timeout: 5_000 }, (response) => {
      const chunks = [];
      response.on("data", (chunk) => chunks.push(chunk));
      response.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        const fields = new Headers();
        for (const [name, value] of Object.entries(response.headers))
          if (name !== "set-cookie") fields.set(name, Array.isArray(value) ? value.join(", ") : String(value));
        resolve({
          status: response.statusCode,
          ok: response.statusCode >= 200 && response.statusCode < 300,
          headers: fields,
          setCookies: response.headers["set-cookie"] ?? [],
          text: async () => text,
        });
      });
      response.on("error", reject);
    });
    request.on("timeout", () => request.destroy(new Error(`no answer from ${url} within 5 s`)));
    request.on("error", reject);
    request.end(body);
  });
}

/**
 * Chromium started by hand (Playwright's launch() would replace `--enable-features`) with
 * `args` on top of the usual ones, a fresh profile and a DevTools port, driven over CDP:
 * `{ browser, context, page, close() }`.
 */
export async function launchChromium(args = []) {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-chromium-"));
  const child = spawn(CHROMIUM, ["--headless", ...CHROMIUM_ARGS, `--user-data-dir=${dir}`, "--remote-debugging-port=0", ...args, "about:blank"], {
    stdio: ["ignore", "ignore", "pipe"],
    // A process group of its own, so that close() ends its renderer, GPU and network processes too:
    // killed alone, the browser process leaves them writing into the profile that close() removes.
    detached: true,
  });
  /** Kills Chromium's whole process group. */
  const killAll = () => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  };
  const endpoint = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("Chromium printed no DevTools endpoint within 30 s")), 30_000);
    createInterface({ input: child.stderr }).on("line", (line) => {
      const found = /DevTools listening on (ws:\/\/\S+)/.exec(line)?.[1];
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    });
    child.once("exit", (code) => reject(new Error(`Chromium exited (${code}) before it listened`)));
  });
  // Should the test process die first, take Chromium with it.
  const onExit = killAll;
  process.once("exit", onExit);
  let browser;
  try {
    browser = await chromium.connectOverCDP(endpoint);
  } catch (error) {
    killAll();
    process.off("exit", onExit);
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    throw error;
  }
  const context = browser.contexts()[0];
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    browser,
    context,
    page,
    async close() {
      await browser.close().catch(() => {});
      const gone = child.exitCode === null && child.signalCode === null ? new Promise((resolve) => child.once("exit", resolve)) : undefined;
      killAll();
      await gone;
      process.off("exit", onExit);
      // The profile's last writes may still be landing as the process goes: retry instead of failing the test.
      rmSync(dir, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
    },
  };
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
