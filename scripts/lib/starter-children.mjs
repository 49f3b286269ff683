// Child processes for scripts/starter-check.mjs: each in its own process group
// (npm, npx, wrangler and the workerd it starts), its output collected for a
// failure report, and every group still running killed at the end.
import { spawn } from "node:child_process";
import path from "node:path";

const KILL_GRACE_MS = 5_000;

/** A failed step: its message, and the output to show. */
export class StepError extends Error {
  constructor(message, output = "") {
    super(message);
    this.output = output;
  }
}

/** Signals a child's whole process group. */
function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Runs children with `env` in `cwd` (both overridable per call), none longer
 * than `timeoutMs`: `start` for one that keeps running, `run` for one to wait
 * for, and `stopAll` (SIGTERM to each group, SIGKILL after a grace period).
 */
export function createChildren({ cwd, env, timeoutMs }) {
  const children = new Set();

  /** Starts a command: stdout and stderr in `child.output`, stdout alone in `child.stdout.text`, its exit status in `child.done`. */
  function start(command, args, options = {}) {
    const child = spawn(command, args, {
      cwd: options.cwd ?? cwd,
      env: { ...env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    child.output = "";
    child.stdout.text = "";
    child.stdout.on("data", (chunk) => {
      child.output += chunk;
      child.stdout.text += chunk;
    });
    child.stderr.on("data", (chunk) => (child.output += chunk));
    child.done = new Promise((resolve) => {
      child.on("error", (error) => {
        child.output += `\n${command}: ${error.message}\n`;
        resolve(127);
      });
      child.on("close", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    }).finally(() => children.delete(child));
    children.add(child);
    return child;
  }

  /** Runs a command to its end; throws a StepError unless it exits with one of `accept` (default 0). */
  async function run(command, args, { accept = [0], ...options } = {}) {
    const child = start(command, args, options);
    const timer = setTimeout(() => {
      child.output += `\n(timed out after ${timeoutMs / 1_000} s)\n`;
      killGroup(child, "SIGKILL");
    }, timeoutMs);
    const code = await child.done.finally(() => clearTimeout(timer));
    if (!accept.includes(code)) throw new StepError(`${path.basename(command)} ${args.join(" ")} exited with ${code}`, child.output);
    return { code, output: child.output, stdout: child.stdout.text };
  }

  async function stopAll() {
    const alive = [...children];
    for (const child of alive) killGroup(child, "SIGTERM");
    const killer = setTimeout(() => {
      for (const child of alive) killGroup(child, "SIGKILL");
    }, KILL_GRACE_MS);
    await Promise.all(alive.map((child) => child.done));
    clearTimeout(killer);
  }

  return { start, run, stopAll };
}
