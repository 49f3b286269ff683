// What `npm start` and `npm run dev:redis` share: running child processes with
// prefixed output and stopping them all together, waiting for the gate to
// answer, and the offline `wrangler dev` command line.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { REPO_ROOT } from "../dev-vars.mjs";

/** How long a child gets to exit after SIGTERM before SIGKILL. */
const KILL_GRACE_MS = 5_000;
const READY_TIMEOUT_MS = 60_000;

/** Copies a child's output line by line, each line prefixed with its label. */
function prefixOutput(stream, label, target) {
  createInterface({ input: stream, crlfDelay: Infinity }).on("line", (line) => target.write(`${label} ${line}\n`));
}

/**
 * Children that live and die together: when one exits unexpectedly, or on
 * SIGINT, SIGTERM, SIGHUP or when this process is orphaned (a SIGTERM sent to
 * `npm` does not pass through its `sh -c`), every child is stopped (SIGTERM,
 * then SIGKILL after a grace period), the cleanups run in reverse, and the
 * process exits.
 */
export function createSupervisor() {
  const children = [];
  const cleanups = [];
  let stopping = false;

  async function stop(code) {
    if (stopping) return;
    stopping = true;
    const alive = children.filter((child) => child.exitCode === null && child.signalCode === null && child.pid);
    for (const child of alive) child.kill("SIGTERM");
    const killer = setTimeout(() => {
      for (const child of alive) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }, KILL_GRACE_MS);
    await Promise.all(
      alive.map(
        (child) => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once("exit", resolve))),
      ),
    );
    clearTimeout(killer);
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error) => console.error(`cleanup: ${error.message}`));
    process.exit(code);
  }

  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => stop(0));
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && stop(0), 1_000).unref();

  return {
    stop,
    get stopping() {
      return stopping;
    },
    /** Runs `fn` when everything stops, after the children have exited. */
    onStop(fn) {
      cleanups.push(fn);
    },
    /** Starts a child whose output is prefixed with `label`. */
    run(label, command, args, env = {}) {
      const child = spawn(command, args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
      prefixOutput(child.stdout, label, process.stdout);
      prefixOutput(child.stderr, label, process.stderr);
      child.on("error", (error) => {
        console.error(`${label} could not start: ${error.message}`);
        stop(1);
      });
      child.on("exit", (status, signal) => {
        if (stopping) return;
        console.error(`${label} exited (${signal ?? `code ${status}`}); stopping.`);
        stop(status || 1);
      });
      children.push(child);
      return child;
    },
  };
}

/**
 * Waits until the gate on `port` answers its health endpoint: "ready",
 * "misconfigured" (it answers 500 to everything until wrangler.toml or
 * .dev.vars is fixed; wrangler reloads on save), or "timeout".
 */
export async function waitForGate(port, isStopping = () => false) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!isStopping() && Date.now() < deadline) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/_gate/health`, { signal: AbortSignal.timeout(2_000) });
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

/** Seconds `waitForGate` waits, for messages. */
export const READY_TIMEOUT_SECONDS = READY_TIMEOUT_MS / 1_000;

/**
 * `wrangler dev` in local mode on `port`, offline and non-interactive: no
 * telemetry, no error reports, no cf.json download (the Worker gets a
 * placeholder request.cf), and no banner, whose update check asks the npm registry.
 */
export function wranglerDev(port, extraArgs = []) {
  return {
    command: join(REPO_ROOT, "node_modules", ".bin", process.platform === "win32" ? "wrangler.cmd" : "wrangler"),
    args: ["dev", "--local", "--ip", "127.0.0.1", "--port", String(port), "--show-interactive-dev-session=false", ...extraArgs],
    env: { WRANGLER_SEND_METRICS: "false", WRANGLER_SEND_ERROR_REPORTS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true" },
  };
}
