// A throwaway redis-server for tests and `npm run dev:redis`: no persistence,
// loopback only, a temporary --dir, a free port. stop() kills it for real and
// start() brings it back on the same port, so outage tests can watch the gate
// fail and recover. With REDIS_URL set, that server is used instead and
// stop()/start() refuse (we do not kill a server we did not start).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectRedis } from "./redis-connection.mjs";

/** How long a fresh redis-server gets to answer PING. */
const READY_TIMEOUT_MS = 10_000;

const handedOut = new Set();

/** Whether `port` can be listened on at 127.0.0.1 right now. */
function canListen(port) {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

/**
 * A free loopback port for a server another process will start. Taken below
 * Linux's ephemeral range (32768–60999): a port the OS hands out for listen(0)
 * is also one it may give the next outgoing connection, before the server binds it.
 */
export async function freePort() {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    // Not one this process handed out already: its server may not have bound it yet.
    if (handedOut.has(port) || !(await canListen(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error("no free loopback port between 20000 and 32000");
}

/** Resolves once Redis at host:port answers PING, or rejects after `timeoutMs`. */
export async function waitForPing({ host = "127.0.0.1", port, password, timeoutMs = READY_TIMEOUT_MS, exited = () => undefined }) {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = "no answer";
  while (Date.now() < deadline) {
    const reason = exited();
    if (reason) throw new Error(`redis-server exited before answering PING: ${reason}`);
    const client = connectRedis({ host, port, password });
    try {
      const [reply] = await client.send([["PING"]]);
      if (reply === "PONG") return;
      lastProblem = `PING answered ${JSON.stringify(reply?.message ?? reply)}`;
    } catch (error) {
      lastProblem = error.message;
    } finally {
      client.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`redis at ${host}:${port} did not answer PING within ${timeoutMs} ms (${lastProblem})`);
}

/** The handle for a server given by REDIS_URL: usable, but not ours to stop. */
async function useExternal(redisUrl) {
  const url = new URL(redisUrl);
  const host = url.hostname || "127.0.0.1";
  const port = Number(url.port || 6379);
  const password = url.password ? decodeURIComponent(url.password) : undefined;
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : undefined;
  await waitForPing({ host, port, password, timeoutMs: 2_000 });
  const refuse = async () => {
    throw new Error(
      `REDIS_URL is set (${url.host}): the tests do not stop or start a Redis they did not launch; unset REDIS_URL to run the outage tests`,
    );
  };
  return { host, port, password, db, url: redisUrl, external: true, stop: refuse, start: refuse, close: async () => {} };
}

/**
 * Starts a throwaway redis-server (or, when `redisUrl`/REDIS_URL is set,
 * connects to that one). Returns `{ host, port, url, external, stop(),
 * start(), close() }`: `stop()` SIGKILLs the process, `start()` relaunches it
 * on the same port (empty: no persistence), `close()` stops it for good and
 * removes its directory.
 */
export async function startRedisServer({ port, redisUrl = process.env.REDIS_URL, binary = process.env.REDIS_SERVER_BIN ?? "redis-server" } = {}) {
  if (redisUrl) return useExternal(redisUrl);
  const host = "127.0.0.1";
  const chosenPort = port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-redis-"));
  const args = ["--port", String(chosenPort), "--bind", host, "--save", "", "--appendonly", "no", "--dir", dir, "--loglevel", "warning"];
  let child = null;

  async function start() {
    if (child) return;
    let output = "";
    let exitReason;
    const spawned = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
    const collect = (chunk) => (output = (output + chunk).slice(-2_000));
    spawned.stdout.on("data", collect);
    spawned.stderr.on("data", collect);
    spawned.once("error", (error) => {
      exitReason = error.code === "ENOENT" ? `${binary} is not installed (apt-get install redis-server, or set REDIS_URL)` : error.message;
    });
    spawned.once("exit", (code, signal) => {
      exitReason ??= `${signal ?? `code ${code}`}; output: ${output.trim() || "(none)"}`;
      if (child === spawned) child = null;
    });
    child = spawned;
    try {
      await waitForPing({ host, port: chosenPort, exited: () => exitReason });
    } catch (error) {
      await stop();
      throw error;
    }
  }

  async function stop() {
    const running = child;
    if (!running) return;
    child = null;
    if (running.pid === undefined || running.exitCode !== null || running.signalCode !== null) return;
    await new Promise((resolve) => {
      running.once("exit", resolve);
      running.kill("SIGKILL");
    });
  }

  // A crashed or interrupted test run must not leave redis-server behind.
  const killOnExit = () => child?.kill("SIGKILL");
  process.once("exit", killOnExit);

  await start();
  return {
    host,
    port: chosenPort,
    url: `redis://${host}:${chosenPort}`,
    external: false,
    stop,
    start,
    async close() {
      await stop();
      process.removeListener("exit", killOnExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
