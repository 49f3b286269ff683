// The REST bridge (test/redis/bridge.mjs) checked with the real @upstash/redis
// and @upstash/ratelimit clients against a real redis-server, in plain Node:
// `node --test test/node/bridge.test.mjs`.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { Ratelimit } from "@upstash/ratelimit";
import { Redis } from "@upstash/redis";
import { scopedToken, startBridge } from "../redis/bridge.mjs";
import { startRedisServer } from "../redis/redis-server.mjs";
import { RespError, encodeCommand, parseReply } from "../redis/resp-client.mjs";

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

describe("RESP2 parsing", () => {
  const wire = "*5\r\n+OK\r\n-ERR boom\r\n:-42\r\n$-1\r\n*3\r\n$4\r\na\r\nb\r\n*-1\r\n*1\r\n$0\r\n\r\n";
  const expected = ["OK", new RespError("ERR boom"), -42, null, [Buffer.from("a\r\nb"), null, [Buffer.alloc(0)]]];

  it("reads simple strings, errors, integers, null and nested arrays, with CRLF inside bulk strings", () => {
    assert.deepEqual(parseReply(Buffer.from(wire)), { value: expected, end: Buffer.byteLength(wire) });
  });

  it("waits for the rest of a reply cut at any byte", () => {
    const bytes = Buffer.from(wire);
    for (let cut = 0; cut < bytes.length; cut++) assert.equal(parseReply(bytes.subarray(0, cut)), undefined, `cut at ${cut}`);
  });

  it("encodes arguments as bulk strings by byte length", () => {
    assert.equal(encodeCommand(["SET", "ü", 7]).toString(), "*3\r\n$3\r\nSET\r\n$2\r\nü\r\n$1\r\n7\r\n");
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
    assert.deepEqual(sent.map(({ path, base64 }) => [path, base64]), [["/pipeline", true]]);
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

  it("fails fast while Redis is stopped and recovers when it starts again", async (t) => {
    if (redisServer.external) return t.skip("REDIS_URL names a server these tests must not stop");
    const k = key("outage");
    await client().set(k, "before");
    await control("/__control/redis/stop");
    const started = Date.now();
    await assert.rejects(client().get(k), /redis is unavailable/);
    await assert.rejects(client().pipeline().get(k).exec(), /redis is unavailable/);
    assert.ok(Date.now() - started < 2_000, "no hanging while Redis is down");
    await control("/__control/redis/start");
    assert.equal(await client().get(k), null, "a fresh server: nothing persisted");
    assert.equal(await client().set(k, "after"), "OK");
    const script = client().createScript("return 'back'");
    assert.equal(await script.exec([], []), "back", "the script cache is empty, EVAL fallback works");
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
