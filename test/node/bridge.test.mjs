// The REST bridge (test/redis/bridge.mjs) checked over raw HTTP and with the
// real @upstash/redis and @upstash/ratelimit clients against a real
// redis-server, in plain Node: `node --test test/node/bridge.test.mjs`.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, beforeEach, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Ratelimit } from "@upstash/ratelimit";
import { Redis } from "@upstash/redis";
import { scopedToken, startBridge } from "../redis/bridge.mjs";
import { RedisUnavailableError, connectRedis } from "../redis/redis-connection.mjs";
import { startRedisServer } from "../redis/redis-server.mjs";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const run = promisify(execFile);
let redisServer;
let bridge;
/** The REST requests the bridge received since the last `sent.length = 0`. */
const sent = [];
let keyCount = 0;
const key = (name) => `bridge-test:${name}:${++keyCount}`;

/** A client of the bridge; `retry: false` so an outage fails at once instead of after five back-offs. */
const client = (options = {}) => new Redis({ url: bridge.url, token: bridge.token, retry: false, enableTelemetry: false, ...options });

async function control(path, body) {
  const method = /^\/__stats(\?|$)/.test(path) ? "GET" : "POST";
  const response = await fetch(`${bridge.url}${path}`, { method, body: body && JSON.stringify(body) });
  assert.equal(response.status, 200, `${path} answered ${response.status}`);
  return response.json();
}

before(async () => {
  redisServer = await startRedisServer();
  bridge = await startBridge({ redisServer, onRequest: (request) => sent.push(request) });
});
after(async () => {
  await bridge?.close();
  await redisServer?.close();
});
beforeEach(() => bridge.setMode("normal"));

/** POSTs a JSON body to the bridge as @upstash/redis would; resolves with `[status, body]`. */
async function post(path, body, { base64 = false, to = bridge } = {}) {
  const headers = { authorization: `Bearer ${to.token}`, ...(base64 ? { "upstash-encoding": "base64" } : {}) };
  const response = await fetch(`${to.url}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
  return [response.status, await response.json()];
}
const b64 = (bytes) => Buffer.from(bytes).toString("base64");

describe("Redis replies as the bridge answers them", () => {
  // Every RESP2 reply type at once: a status, an error and nil nested in arrays, a negative integer, CRLF inside a bulk string, an empty bulk string.
  const lua = "return {redis.status_reply('OK'), redis.error_reply('ERR boom'), -42, false, {'a\\r\\nb', false, {''}}}";

  it("gives simple strings, errors, integers, nil and nested arrays, with CRLF inside bulk strings", async () => {
    assert.deepEqual(await post("/", ["EVAL", lua, 0]), [200, { result: ["OK", "ERR boom", -42, null, ["a\r\nb", null, [""]]] }]);
    const encoded = [b64("OK"), b64("ERR boom"), -42, null, [b64("a\r\nb"), null, [""]]];
    assert.deepEqual(
      await post(
        "/pipeline",
        [
          ["EVAL", lua, 0],
          ["GET", key("missing")],
        ],
        { base64: true },
      ),
      [200, [{ result: encoded }, { result: null }]],
    );
  });

  it("keeps bulk strings binary-safe: bytes that are not UTF-8 come back exact in base64", async () => {
    const k = key("binary");
    const bytes = Buffer.from([0xff, 0x00, 0x0d, 0x0a, 0x80, 0xc3]);
    // JSON can only carry text, so Lua writes the raw bytes.
    assert.deepEqual(await post("/", ["EVAL", "return redis.call('SET', KEYS[1], '\\255\\0\\r\\n\\128\\195')", 1, k]), [200, { result: "OK" }]);
    assert.deepEqual(await post("/", ["GET", k], { base64: true }), [200, { result: b64(bytes) }]);
    assert.deepEqual(
      await post(
        "/pipeline",
        [
          ["STRLEN", k],
          ["MGET", k, key("none")],
        ],
        { base64: true },
      ),
      [200, [{ result: 6 }, { result: [b64(bytes), null] }]],
    );
    assert.deepEqual(await post("/", ["GET", k]), [200, { result: bytes.toString("utf8") }], "without base64, invalid UTF-8 is replaced");
  });

  it("sends arguments as bytes: multi-byte UTF-8, numbers and booleans", async () => {
    const [text, number] = [key("utf8"), key("number")];
    const replies = await post("/pipeline", [
      ["SET", text, "ü☃"],
      ["STRLEN", text],
      ["SET", number, 7],
      ["INCRBY", number, -49],
      ["SET", text, true],
      ["GET", text],
    ]);
    assert.deepEqual(replies, [200, [{ result: "OK" }, { result: 5 }, { result: "OK" }, { result: -42 }, { result: "OK" }, { result: "true" }]]);
  });

  it("answers an error reply with Redis's exact message: 400 on POST /, an entry of its own in a pipeline", async () => {
    const k = key("error");
    const notInteger = "ERR value is not an integer or out of range";
    assert.deepEqual(await post("/", ["SET", k, "v"]), [200, { result: "OK" }]);
    assert.deepEqual(await post("/", ["INCR", k]), [400, { error: notInteger }]);
    assert.deepEqual(await post("/", ["EVAL", "return redis.error_reply('MY custom failure')", 0]), [400, { error: "MY custom failure" }]);
    assert.deepEqual(
      await post("/pipeline", [
        ["INCR", k],
        ["GET", k],
        ["nosuch", "x"],
      ]),
      [200, [{ error: notInteger }, { result: "v" }, { error: "ERR unknown command 'nosuch', with args beginning with: 'x' " }]],
    );
  });

  it("runs /multi-exec as one transaction: run-time errors in their slot, a queueing error aborts it all", async () => {
    const k = key("tx");
    assert.deepEqual(
      await post("/multi-exec", [
        ["SET", k, "v"],
        ["HGET", k, "f"],
        ["GET", k],
      ]),
      [200, [{ result: "OK" }, { error: "WRONGTYPE Operation against a key holding the wrong kind of value" }, { result: "v" }]],
    );
    assert.deepEqual(await post("/multi-exec", [["SET", k, "changed"], ["GET"]]), [
      400,
      { error: "EXECABORT Transaction discarded because of previous errors: ERR wrong number of arguments for 'get' command" },
    ]);
    assert.deepEqual(await post("/", ["GET", k]), [200, { result: "v" }], "nothing of the aborted transaction ran");
    assert.deepEqual(await post("/multi-exec", [["GET", k], ["MULTI"]]), [400, { error: "ERR 'MULTI' is not available over the REST bridge" }]);
  });

  it("keeps other requests' commands out of a transaction, and pipelines in order", async () => {
    const k = key("atomic");
    const transactions = Array.from({ length: 20 }, () =>
      post("/multi-exec", [
        ["INCR", k],
        ["INCR", k],
        ["GET", k],
      ]),
    );
    const pipelines = Array.from({ length: 20 }, () =>
      post("/pipeline", [
        ["INCR", k],
        ["INCR", k],
      ]),
    );
    for (const [status, [first, second, read]] of await Promise.all(transactions)) {
      assert.equal(status, 200);
      assert.deepEqual([second.result, Number(read.result)], [first.result + 1, first.result + 1], "no INCR of another request between");
    }
    for (const [, [first, second]] of await Promise.all(pipelines)) assert.ok(second.result > first.result, "a pipeline's replies come in order");
    assert.deepEqual(await post("/", ["GET", k]), [200, { result: "80" }]);
  });
});

describe("AUTH and SELECT", () => {
  it("authenticates with redisPassword, selects redisDb, takes both from REDIS_URL, and answers 503 when AUTH is refused", async (t) => {
    if (redisServer.external) return t.skip("REDIS_URL names a server these tests must not reconfigure");
    const server = await startRedisServer({ redisUrl: "" });
    const bridges = [];
    const start = async (options) => {
      const started = await startBridge(options);
      bridges.push(started);
      return started;
    };
    try {
      const open = await start({ redisServer: server });
      // The bridge's connection is already authenticated; every later one needs the password.
      assert.deepEqual(await post("/", ["CONFIG", "SET", "requirepass", "s3cret"], { to: open }), [200, { result: "OK" }]);
      const k = key("db");
      const authed = await start({ redisServer: server, redisPassword: "s3cret", redisDb: 2 });
      assert.deepEqual(await post("/", ["SET", k, "in db 2"], { to: authed }), [200, { result: "OK" }]);
      assert.deepEqual(await post("/", ["EXISTS", k], { to: open }), [200, { result: 0 }], "db 0 does not have it");
      const fromUrl = await startRedisServer({ redisUrl: `redis://:s3cret@127.0.0.1:${server.port}/2` });
      assert.deepEqual([fromUrl.password, fromUrl.db, fromUrl.external], ["s3cret", 2, true]);
      assert.deepEqual(await post("/", ["GET", k], { to: await start({ redisServer: fromUrl }) }), [200, { result: "in db 2" }]);
      const [status, body] = await post("/", ["PING"], { to: await start({ redisServer: server, redisPassword: "wrong" }) });
      assert.equal(status, 503);
      assert.match(body.error, /^ERR redis is unavailable: .*refused the connection setup: WRONGPASS/);
    } finally {
      for (const started of bridges) await started.close();
      await server.close();
    }
  });
});

const CLIENT_SETUPS = [
  ["the client's defaults (base64 responses, auto-pipelining)", {}],
  ["plain JSON responses (responseEncoding: false)", { responseEncoding: false }],
  ["one request per command (enableAutoPipelining: false)", { enableAutoPipelining: false }],
];

for (const [label, options] of CLIENT_SETUPS) {
  describe(label, () => {
    const redis = () => client(options);

    it("round-trips ASCII, unicode, control characters and base64-looking strings", async () => {
      for (const value of ["hello", "héllo ☃ 日本語 𝄞", "nul\u0000 bell\u0007 crlf\r\n tab\t \u00ff", "OK", "T0s=", "PONG", ""]) {
        const k = key("string");
        assert.equal(await redis().set(k, value), "OK");
        assert.equal(await redis().get(k), value);
      }
      assert.equal(await redis().ping(), "PONG");
      assert.equal(await redis().get(key("missing")), null);
    });

    it("round-trips a 3 MiB value that arrives in many TCP chunks", async () => {
      const k = key("big");
      const value = "ü".repeat(1.5 * 1024 * 1024);
      await redis().set(k, value);
      assert.equal(await redis().get(k), value);
    });

    it("stores objects as JSON and gives them back parsed", async () => {
      const k = key("json");
      const value = { user: "ü", roles: ["admin"], nested: { n: 1, ok: true, none: null } };
      await redis().set(k, value);
      assert.deepEqual(await redis().get(k), value);
    });

    it("increments counters and reports expiry", async () => {
      const k = key("counter");
      assert.equal(await redis().incr(k), 1);
      assert.equal(await redis().incrby(k, 41), 42);
      assert.equal(await redis().expire(k, 100), 1);
      const ttl = await redis().ttl(k);
      assert.ok(ttl > 90 && ttl <= 100, `ttl ${ttl}`);
      assert.equal(await redis().ttl(key("missing")), -2);
      await redis().set(k, "v", { ex: 60 });
      assert.ok((await redis().pttl(k)) > 59_000);
    });

    it("runs Lua with nested array replies", async () => {
      const result = await redis().eval("return {KEYS[1], ARGV[1], 42, {'inner', 7}, 'OK'}", ["k1"], ["a1"]);
      assert.deepEqual(result, ["k1", "a1", 42, ["inner", 7], "OK"]);
    });

    it("answers NOSCRIPT for an unknown hash and createScript falls back to EVAL once", async () => {
      await redis().scriptFlush();
      const lua = `return redis.call('INCRBY', KEYS[1], ARGV[1]) -- ${label}`;
      const script = redis().createScript(lua);
      await script.init(lua);
      await assert.rejects(redis().evalsha(script.sha1, [key("x")], [1]), /NOSCRIPT/);
      const k = key("script");
      bridge.resetStats();
      assert.equal(await script.exec([k], [2]), 2);
      assert.deepEqual(bridge.stats(), { requests: 2, commands: 2 }, "EVALSHA, NOSCRIPT, then EVAL");
      assert.equal(await script.exec([k], [3]), 5);
      assert.equal(bridge.stats().requests, 3, "the second call is one EVALSHA");
    });

    it("sends a pipeline as one request and reports per-command errors", async () => {
      const k = key("pipe");
      bridge.resetStats();
      const results = await redis().pipeline().set(k, "v").get(k).incr(key("n")).exec();
      assert.deepEqual(results, ["OK", "v", 1]);
      assert.deepEqual(await control("/__stats"), { requests: 1, commands: 3 });
      await assert.rejects(redis().pipeline().get(k).incr(k).exec(), /Command 2 \[ incr \] failed: ERR value is not an integer/);
      const kept = await redis().pipeline().get(k).incr(k).exec({ keepErrors: true });
      assert.equal(kept[0].result, "v");
      assert.match(kept[1].error, /not an integer/);
    });

    it("runs multi() as one MULTI/EXEC request", async () => {
      const k = key("tx");
      bridge.resetStats();
      assert.deepEqual(await redis().multi().set(k, 1).incr(k).get(k).exec(), ["OK", 2, 2]);
      assert.equal(bridge.stats().requests, 1);
      await assert.rejects(redis().multi().set(k, 1).hget(k, "f").exec(), /WRONGTYPE/);
    });

    it("auto-pipelines commands issued in one tick into one request per read/write batch", async () => {
      const auto = client({ ...options, enableAutoPipelining: true });
      const [a, b] = [key("auto"), key("auto")];
      await auto.set(a, "1");
      await auto.set(b, "2");
      bridge.resetStats();
      assert.deepEqual(await Promise.all([auto.get(a), auto.get(b), auto.exists(a, b), auto.ttl(a)]), [1, 2, 2, -1]);
      assert.equal(bridge.stats().requests, 1, "four reads, one request");
      bridge.resetStats();
      assert.deepEqual(await Promise.all([auto.incr(a), auto.incr(b), auto.del(key("none"))]), [2, 3, 0]);
      assert.equal(bridge.stats().requests, 1, "three writes, one request");
      bridge.resetStats();
      await Promise.all([auto.get(a), auto.incr(b)]);
      assert.equal(bridge.stats().requests, 2, "the client keeps reads and writes in separate pipelines");
    });
  });
}

describe("what the client sends", () => {
  it("asks for base64 and batches even a lone command through /pipeline by default", async () => {
    sent.length = 0;
    await client().get(key("lone"));
    assert.deepEqual(
      sent.map(({ path, base64 }) => [path, base64]),
      [["/pipeline", true]],
    );
  });

  it("sends a lone command to POST / when auto-pipelining is off", async () => {
    sent.length = 0;
    const k = key("single");
    await client({ enableAutoPipelining: false, responseEncoding: false }).set(k, "v", { ex: 5 });
    assert.deepEqual(sent, [{ path: "/", body: ["set", k, "v", "ex", 5], base64: false, scope: undefined }]);
  });
});

describe("@upstash/ratelimit through the bridge", () => {
  it("allows five requests in a 10 s sliding window and refuses the sixth", async () => {
    const limiter = new Ratelimit({ redis: client(), limiter: Ratelimit.slidingWindow(5, "10 s"), prefix: key("rl"), ephemeralCache: false });
    const outcomes = [];
    for (let i = 0; i < 6; i++) outcomes.push((await limiter.limit("ip")).success);
    assert.deepEqual(outcomes, [true, true, true, true, true, false]);
  });

  it("keeps EVALSHA working for scripts with Upstash's allow-key-locking flag", async () => {
    const limiter = new Ratelimit({ redis: client(), limiter: Ratelimit.fixedWindow(3, "10 s"), prefix: key("rl"), ephemeralCache: false });
    await limiter.limit("warm-up");
    bridge.resetStats();
    const { success, remaining } = await limiter.limit("ip");
    assert.equal(success, true);
    assert.equal(remaining, 2);
    assert.equal(bridge.stats().requests, 1, "one EVALSHA, no NOSCRIPT fallback");
  });
});

describe("protocol and faults", () => {
  it("refuses a wrong or missing token with 401 Unauthorized", async () => {
    for (const authorization of [undefined, "Bearer wrong", `Basic ${bridge.token}`]) {
      const response = await fetch(bridge.url, { method: "POST", headers: authorization ? { authorization } : {}, body: '["ping"]' });
      assert.equal(response.status, 401);
      assert.deepEqual(await response.json(), { error: "Unauthorized" });
    }
    await assert.rejects(new Redis({ url: bridge.url, token: "wrong", retry: false }).get("k"), /Unauthorized/);
  });

  it("answers a command error with 400 and returns an increasing sync token", async () => {
    const send = () => fetch(bridge.url, { method: "POST", headers: { authorization: `Bearer ${bridge.token}` }, body: '["nosuchcommand"]' });
    const first = await send();
    assert.equal(first.status, 400);
    assert.match((await first.json()).error, /^ERR unknown command/);
    const second = await send();
    assert.ok(Number(second.headers.get("upstash-sync-token")) > Number(first.headers.get("upstash-sync-token")));
  });

  it("counts REST requests but not control requests", async () => {
    await control("/__stats/reset");
    await client().get(key("count"));
    await client().pipeline().get("a").get("b").exec();
    await control("/__stats");
    assert.deepEqual(await control("/__stats"), { requests: 2, commands: 3 });
  });

  it("keeps counts and faults apart per token scope", async () => {
    const [a, b] = ["file-a", "file-b"].map((scope) => client({ token: scopedToken(bridge.token, scope) }));
    await control("/__stats/reset");
    await a.get(key("a"));
    await a.pipeline().get("x").get("y").exec();
    await b.get(key("b"));
    assert.deepEqual(await control("/__stats?scope=file-a"), { requests: 2, commands: 3 });
    assert.deepEqual(await control("/__stats?scope=file-b"), { requests: 1, commands: 1 });
    assert.deepEqual(await control("/__stats"), { requests: 3, commands: 4 });
    assert.deepEqual(await control("/__control/mode", { mode: "http500", scope: "file-a" }), { mode: "http500", scope: "file-a" });
    await assert.rejects(a.get("k"), /Internal Server Error/);
    assert.equal(await b.set(key("b"), "unaffected"), "OK");
    await control("/__control/mode", { mode: "normal", scope: "file-a" });
    assert.equal(await a.get(key("a")), null);
    await control("/__stats/reset?scope=file-a");
    assert.deepEqual(await control("/__stats?scope=file-a"), { requests: 0, commands: 0 });
    await assert.rejects(client({ token: `${bridge.token}.bad scope!` }).get("k"), /Unauthorized/);
  });

  it("fails fast while Redis is stopped, queues nothing, and recovers on its own when it starts again", async (t) => {
    if (redisServer.external) return t.skip("REDIS_URL names a server these tests must not stop");
    const k = key("outage");
    await client().set(k, "before");
    await control("/__control/redis/stop");
    const timed = async (work) => {
      const started = Date.now();
      await work();
      return Date.now() - started;
    };
    for (let i = 0; i < 3; i++) {
      const ms = await timed(() => assert.rejects(client().get(k), /redis is unavailable/));
      assert.ok(ms < 1_000, `a request while Redis is down took ${ms} ms`);
    }
    await assert.rejects(client().pipeline().set(k, "queued?").get(k).exec(), /redis is unavailable/);
    const [status, body] = await post("/multi-exec", [["SET", k, "queued?"]]);
    assert.equal(status, 503);
    assert.match(body.error, /^ERR redis is unavailable: redis at 127\.0\.0\.1:\d+ is unreachable/);
    await control("/__control/redis/start");
    assert.equal(await client().get(k), null, "a fresh server, and no write of the outage replayed onto it");
    assert.equal(await client().set(k, "after"), "OK");
    const script = client().createScript("return 'back'");
    assert.equal(await script.exec([], []), "back", "the script cache is empty, EVAL fallback works");
  });

  it("drops a connection whose reply never comes (a stopped process) and reconnects", async (t) => {
    if (redisServer.external) return t.skip("REDIS_URL names a server these tests must not stop");
    const server = await startRedisServer({ redisUrl: "" });
    const redis = connectRedis({ port: server.port, replyTimeoutMs: 200 });
    try {
      const [info] = await redis.send([["INFO", "server"]]);
      const pid = Number(/process_id:(\d+)/.exec(String(info))[1]);
      process.kill(pid, "SIGSTOP");
      const started = Date.now();
      try {
        await assert.rejects(redis.send([["PING"]]), RedisUnavailableError);
      } finally {
        process.kill(pid, "SIGCONT");
      }
      assert.ok(Date.now() - started < 2_000);
      assert.deepEqual(await redis.send([["PING"]]), ["PONG"]);
    } finally {
      redis.close();
      await server.close();
    }
  });

  it("lets its process exit once close() returns, printing nothing, even after an outage", async (t) => {
    if (redisServer.external) return t.skip("REDIS_URL names a server these tests must not stop");
    const script = `
      import { startBridge } from "./test/redis/bridge.mjs";
      import { startRedisServer } from "./test/redis/redis-server.mjs";
      const redisServer = await startRedisServer({ redisUrl: "" });
      const bridge = await startBridge({ redisServer });
      const ping = () => fetch(bridge.url, { method: "POST", headers: { authorization: "Bearer " + bridge.token }, body: '["PING"]' }).then((r) => r.status);
      const statuses = [await ping()];
      await redisServer.stop();
      statuses.push(await ping());
      await redisServer.start();
      statuses.push(await ping());
      await bridge.close();
      await redisServer.close();
      if (statuses.join() !== "200,503,200") throw new Error("statuses " + statuses);
    `;
    const started = Date.now();
    const { stdout, stderr } = await run(process.execPath, ["--input-type=module", "-e", script], { cwd: ROOT, timeout: 10_000 });
    assert.deepEqual([stdout, stderr], ["", ""]);
    assert.ok(Date.now() - started < 5_000, "nothing kept node alive after close()");
  });

  it("injects HTTP 500, a non-JSON body, and a hang", async () => {
    await control("/__control/mode", { mode: "http500" });
    await assert.rejects(client().get("k"), (error) => error.name === "UpstashJSONParseError" || /Internal Server Error/.test(error.message));
    await control("/__control/mode", { mode: "garbage" });
    await assert.rejects(client().get("k"), /Unable to parse response body/);
    await control("/__control/mode", { mode: "hang" });
    await assert.rejects(client({ signal: () => AbortSignal.timeout(200) }).get("k"), /abort|timeout/i);
    const held = client().get("k");
    await new Promise((resolve) => setTimeout(resolve, 100));
    await control("/__control/mode", { mode: "normal" });
    await assert.rejects(held, /held by the hang mode/);
    assert.equal(await client().set(key("ok"), "fine"), "OK");
  });
});
