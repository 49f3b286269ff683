// Runs wrk (Debian's `wrk`, C, epoll) with bench/load.lua on a given CPU and
// returns what the script's done() printed: requests, duration, errors,
// latency percentiles (µs, timed by the script: see there) and its counters.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { track as own } from "./harness.mjs";

const SCRIPT = fileURLToPath(new URL("./load.lua", import.meta.url));

/** wrk's version line, or undefined when it is not installed. */
export function wrkVersion() {
  const probe = spawnSync("wrk", ["--version"], { encoding: "utf8" });
  if (probe.error) return undefined;
  return (probe.stdout + probe.stderr).split("\n")[0].trim();
}

/**
 * `connections` over `threads` for `seconds` (a hard bound on time: wrk stops
 * then however many requests were sent), against `url` (loopback only).
 * `stopAfter`: each thread stops after that many responses; wrk itself only
 * exits at its deadline, so `done` (polled every 250 ms) says when to end it
 * early with SIGINT, on which wrk reports as usual. `unique`: a `?sub=` of its own
 * on every request (the login arm); `cookieExtra`: appended to every Cookie header.
 */
export function runWrk({
  url,
  connections,
  threads,
  seconds,
  cpu,
  headers = {},
  cookies = [],
  perThread = 1,
  follow = false,
  track = false,
  stopAfter = 0,
  unique = false,
  cookieExtra = "",
  done,
}) {
  // bench/load.lua times requests per thread and follows cookies per thread: one connection each.
  if (connections !== threads) throw new Error("bench/load.lua needs one connection per wrk thread");
  if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(url)) throw new Error(`load goes to 127.0.0.1 only, not ${url}`);
  const args = ["-c", String(cpu), "wrk", "-c", String(connections), "-t", String(threads), "-d", `${seconds}s`, "--timeout", "5s", "-s", SCRIPT];
  for (const [name, value] of Object.entries(headers)) args.push("-H", `${name}: ${value}`);
  args.push(url);
  const env = {
    ...process.env,
    BENCH_COOKIES: cookies.join(" "),
    BENCH_PER_THREAD: String(perThread),
    BENCH_FOLLOW: follow ? "1" : "0",
    BENCH_TRACK: track ? "1" : "0",
    BENCH_STOP_AFTER: String(stopAfter),
    BENCH_UNIQUE: unique ? randomBytes(4).toString("hex") : "",
    BENCH_COOKIE_EXTRA: cookieExtra,
  };
  return new Promise((resolve, reject) => {
    const child = own(spawn("taskset", args, { env, stdio: ["ignore", "pipe", "pipe"] }));
    let out = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.stderr.on("data", (chunk) => (out += chunk));
    child.once("error", reject);
    const poll = done
      ? setInterval(async () => {
          if (await done().catch(() => false)) child.kill("SIGINT");
        }, 250)
      : undefined;
    child.once("exit", (code) => {
      clearInterval(poll);
      const line = out.split("\n").find((l) => l.startsWith("BENCH_RESULT "));
      if (code !== 0 || !line) return reject(new Error(`wrk failed (exit ${code}):\n${out}`));
      const result = JSON.parse(line.slice("BENCH_RESULT ".length));
      result.rps = result.requests / (result.duration_us / 1e6);
      const { connect, read, write, timeout, status } = result.errors;
      result.socketErrors = connect + read + write + timeout;
      // Failed requests: socket errors, and responses ≥ 400 (wrk's count) or anything but 2xx (the script's).
      result.errorCount = result.socketErrors + Math.max(status, result.bad);
      resolve(result);
    });
  });
}
