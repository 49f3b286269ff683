// An Upstash-compatible REST bridge in front of a real redis-server, for tests
// and local development: the real @upstash/redis client and the real Lua
// scripts run unchanged against it. It implements what that client sends
// (POST /, /pipeline, /multi-exec with a JSON command body, Bearer auth,
// `Upstash-Encoding: base64`, `upstash-sync-token`) plus loopback-only
// control endpoints for counting requests and injecting faults, globally or
// per scope (a client whose token is `<token>.<scope>`), so test files running
// side by side do not see each other's counts and faults.
// See docs/redis-bridge.md. It talks to Redis through node-redis (the `redis`
// dev dependency; see redis-connection.mjs).
import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { RedisUnavailableError, connectRedis, isErrorReply } from "./redis-connection.mjs";
import { BadRequest, parseCommand, readJson, sendJson, toEntry, toJson } from "./rest-protocol.mjs";
import { createScriptDialect } from "./upstash-scripts.mjs";

/** Fault modes for POST /__control/mode. */
export const BRIDGE_MODES = ["normal", "http500", "garbage", "hang"];
/** A request held by the "hang" fault is answered 504 after this long at most. */
const HANG_TIMEOUT_MS = 10_000;
const LOOPBACK = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);
const SCOPE = /^[A-Za-z0-9_-]{1,64}$/;

/** The token a client uses to have its requests counted and faulted under `scope`. */
export const scopedToken = (token, scope) => `${token}.${scope}`;

/** Request counters, global and per scope. */
function createCounters() {
  const zero = () => ({ requests: 0, commands: 0 });
  let all = zero();
  const scoped = new Map();
  return {
    add(scope, field, n = 1) {
      all[field] += n;
      if (scope === undefined) return;
      if (!scoped.has(scope)) scoped.set(scope, zero());
      scoped.get(scope)[field] += n;
    },
    get: (scope) => ({ ...(scope === undefined ? all : (scoped.get(scope) ?? zero())) }),
    reset(scope) {
      if (scope !== undefined) return void scoped.delete(scope);
      all = zero();
      scoped.clear();
    },
  };
}

/** The fault mode, global and per scope, and the requests the "hang" mode holds. */
function createFaults(hangTimeoutMs) {
  let globalMode = "normal";
  const scoped = new Map();
  const held = new Set();
  const modeFor = (scope) => scoped.get(scope) ?? globalMode;
  return {
    modeFor,
    set(mode, scope) {
      if (!BRIDGE_MODES.includes(mode)) throw new BadRequest(`mode must be one of ${BRIDGE_MODES.join(", ")}`);
      if (scope === undefined) globalMode = mode;
      else if (mode === "normal") scoped.delete(scope);
      else scoped.set(scope, mode);
      for (const entry of [...held]) if (modeFor(entry.scope) !== "hang") entry.release();
    },
    /** Holds a request until its mode changes, the client goes away or hangTimeoutMs passes. */
    hang(res, scope) {
      return new Promise((resolve) => {
        const entry = { scope, release };
        const timer = setTimeout(release, hangTimeoutMs);
        function release() {
          clearTimeout(timer);
          held.delete(entry);
          resolve();
        }
        held.add(entry);
        res.once("close", release);
      });
    },
    clear() {
      globalMode = "normal";
      scoped.clear();
      for (const entry of [...held]) entry.release();
    },
  };
}

/**
 * Starts the bridge on 127.0.0.1. `redisServer` (from redis-server.mjs) is the
 * process that /__control/redis/stop|start acts on; without it those answer
 * 409. `onRequest({ path, body, base64, scope })`, when given, sees every
 * authorised REST request before it runs (tests use it to see what a client
 * sent). Resolves with `{ url, port, token, stats(scope?), resetStats(scope?),
 * setMode(mode, scope?), close() }`.
 */
export async function startBridge({
  redisServer,
  redisPort = redisServer?.port,
  redisHost = redisServer?.host ?? "127.0.0.1",
  redisPassword = redisServer?.password,
  redisDb = redisServer?.db,
  token = randomBytes(24).toString("base64url"),
  port = 0,
  hangTimeoutMs = HANG_TIMEOUT_MS,
  connectTimeoutMs = 200,
  onRequest,
} = {}) {
  if (!redisPort) throw new Error("startBridge needs redisPort (or redisServer)");
  const redis = connectRedis({ host: redisHost, port: redisPort, password: redisPassword, db: redisDb, connectTimeoutMs });
  const expected = Buffer.from(`Bearer ${token}`);
  const counters = createCounters();
  const faults = createFaults(hangTimeoutMs);
  const dialect = createScriptDialect();
  let syncToken = 0;

  /** `{ scope }` for a valid `Bearer <token>[.<scope>]`, `undefined` otherwise. */
  function authorize(req) {
    const given = Buffer.from(req.headers.authorization ?? "");
    if (given.length < expected.length || !timingSafeEqual(given.subarray(0, expected.length), expected)) return undefined;
    if (given.length === expected.length) return { scope: undefined };
    const rest = given.subarray(expected.length).toString();
    return rest.startsWith(".") && SCOPE.test(rest.slice(1)) ? { scope: rest.slice(1) } : undefined;
  }

  /** A JSON command, checked and translated for Redis: `{ args, reply(r), refused? }`. */
  function prepare(value) {
    const { args, refused } = parseCommand(value);
    return refused ? { args, refused, reply: (r) => r } : dialect.rewrite(args);
  }

  async function single(body, base64) {
    const command = prepare(body);
    if (command.refused) return [400, { error: command.refused }];
    const reply = command.reply((await redis.send([command.args]))[0]);
    return isErrorReply(reply) ? [400, { error: reply.message }] : [200, { result: toJson(reply, base64) }];
  }

  async function pipeline(body, base64) {
    if (!Array.isArray(body) || body.length === 0) throw new BadRequest("ERR a pipeline must be a non-empty JSON array of commands");
    const commands = body.map(prepare);
    const toSend = commands.filter((command) => !command.refused);
    const replies = toSend.length > 0 ? await redis.send(toSend.map((command) => command.args)) : [];
    let next = 0;
    return [200, commands.map((command) => (command.refused ? { error: command.refused } : toEntry(command.reply(replies[next++]), base64)))];
  }

  async function multiExec(body, base64) {
    if (!Array.isArray(body) || body.length === 0) throw new BadRequest("ERR a transaction must be a non-empty JSON array of commands");
    const commands = body.map(prepare);
    const refused = commands.find((command) => command.refused);
    if (refused) return [400, { error: refused.refused }];
    // One batch, queued back to back on the one connection: MULTI, the commands, EXEC; nothing else can land in between.
    const replies = await redis.send([["MULTI"], ...commands.map((command) => command.args), ["EXEC"]]);
    const exec = replies.at(-1);
    if (isErrorReply(exec)) {
      const cause = replies.slice(1, -1).find(isErrorReply);
      return [400, { error: cause ? `${exec.message.replace(/\.$/, "")}: ${cause.message}` : exec.message }];
    }
    if (exec === null) return [400, { error: "EXECABORT the transaction was aborted" }];
    return [200, exec.map((reply, i) => toEntry(commands[i].reply(reply), base64))];
  }

  const ROUTES = { "/": single, "/pipeline": pipeline, "/multi-exec": multiExec };

  async function rest(req, res, path, run) {
    const auth = authorize(req);
    counters.add(auth?.scope, "requests");
    if (!auth) return sendJson(res, 401, { error: "Unauthorized" });
    const mode = faults.modeFor(auth.scope);
    if (mode === "http500") return res.writeHead(500, { "content-type": "text/plain" }).end("Internal Server Error (bridge fault: http500)");
    if (mode === "garbage") return res.writeHead(200, { "content-type": "application/json" }).end("<html>this is not JSON</html>");
    if (mode === "hang") {
      await faults.hang(res, auth.scope);
      if (!res.destroyed) sendJson(res, 504, { error: "ERR bridge fault: the request was held by the hang mode and dropped" });
      return;
    }
    if (req.method !== "POST") return sendJson(res, 405, { error: "ERR only POST is supported by the bridge" });
    const base64 = String(req.headers["upstash-encoding"] ?? "").toLowerCase() === "base64";
    const body = await readJson(req);
    onRequest?.({ path, body, base64, scope: auth.scope });
    const commandCount = path === "/" ? 1 : Array.isArray(body) ? body.length : 0;
    counters.add(auth.scope, "commands", commandCount);
    const [status, payload] = await run(body, base64);
    sendJson(res, status, payload, { "upstash-sync-token": String(++syncToken) });
  }

  async function control(req, res, url) {
    if (!LOOPBACK.has(req.socket.remoteAddress)) return sendJson(res, 403, { error: "control endpoints are loopback-only" });
    const path = url.pathname;
    const scopeParam = url.searchParams.get("scope") ?? undefined;
    if (req.method === "GET" && path === "/__stats") return sendJson(res, 200, counters.get(scopeParam));
    if (req.method !== "POST") return sendJson(res, 405, { error: "use POST" });
    if (path === "/__stats/reset") {
      counters.reset(scopeParam);
      return sendJson(res, 200, counters.get(scopeParam));
    }
    if (path === "/__control/mode") {
      const { mode, scope = scopeParam } = (await readJson(req)) ?? {};
      faults.set(mode, scope);
      return sendJson(res, 200, { mode: faults.modeFor(scope), ...(scope === undefined ? {} : { scope }) });
    }
    if (path === "/__control/redis/stop" || path === "/__control/redis/start") {
      if (!redisServer) return sendJson(res, 409, { error: "the bridge was started without a redis-server handle" });
      const action = path.endsWith("stop") ? "stop" : "start";
      // An external server (REDIS_URL) refuses to be stopped; say why rather than answer 500.
      const refusal = await redisServer[action]().then(
        () => undefined,
        (error) => error.message,
      );
      if (refusal) return sendJson(res, 409, { error: refusal });
      return sendJson(res, 200, { redis: action === "stop" ? "stopped" : "started" });
    }
    return sendJson(res, 404, { error: `no control endpoint ${path}` });
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://bridge");
    try {
      if (url.pathname.startsWith("/__")) return await control(req, res, url);
      const run = ROUTES[url.pathname];
      if (!run) return sendJson(res, 404, { error: `ERR the bridge serves POST /, /pipeline and /multi-exec, not ${url.pathname}` });
      await rest(req, res, url.pathname, run);
    } catch (error) {
      if (res.headersSent) return res.destroy();
      if (error instanceof BadRequest) return sendJson(res, 400, { error: error.message });
      if (error instanceof RedisUnavailableError) return sendJson(res, 503, { error: `ERR redis is unavailable: ${error.message}` });
      sendJson(res, 500, { error: `ERR bridge failure: ${error.message}` });
    }
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const bound = server.address().port;

  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    token,
    /** `{ requests, commands }` since the start or the last reset, for everyone or one scope. */
    stats: (scope) => counters.get(scope),
    /** Zeroes one scope's counters, or (no scope) every counter. */
    resetStats: (scope) => counters.reset(scope),
    /** Sets the fault mode for everyone or one scope; releases held requests whose mode is no longer "hang". */
    setMode: (mode, scope) => faults.set(mode, scope),
    /** Stops listening, answers held requests and drops the Redis connection. */
    async close() {
      faults.clear();
      await new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      redis.close();
    },
  };
}
