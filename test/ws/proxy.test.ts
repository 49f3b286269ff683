// proxyWebSocket inside workerd, against the real `ws` origin of global-setup.ts. The test plays
// the client: it accepts the `webSocket` of the 101 that proxyWebSocket returns.
import { afterEach, describe, expect, inject, it, vi } from "vitest";
import { upstreamRequest } from "../../src/proxy/upstream";
import { type WebSocketActivity, type WebSocketCloseEvent, type WebSocketProxyOptions, proxyWebSocket } from "../../src/proxy/websocket";
import type { SessionRecord } from "../../src/store/types";

const ORIGIN = inject("wsOriginUrl");

type Message = string | ArrayBuffer;
type Closed = { code: number; reason: string; at: number };

let serial = 0;
/** A connection id of its own for each socket, for the origin's `/log?id=`. */
const freshId = (name: string) => `${name}-${++serial}-${Date.now()}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for `condition` (polled), failing after `ms`. */
async function until(condition: () => boolean | Promise<boolean>, ms = 2_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await sleep(10);
  }
}

const opened: WebSocket[] = [];
afterEach(() => {
  // An open socket keeps its proxy's timers firing: close whatever a failed test left behind.
  for (const ws of opened.splice(0)) if (ws.readyState === WebSocket.OPEN) ws.close(1000);
});

/** Accepts the client end of a 101, answering closes itself as a browser does, and records what arrives. */
function openClient(response: Response) {
  expect(response.status).toBe(101);
  const ws = response.webSocket!;
  expect(ws).toBeTruthy();
  ws.binaryType = "arraybuffer";
  ws.accept({ allowHalfOpen: false });
  opened.push(ws);
  const messages: Message[] = [];
  ws.addEventListener("message", (event) => {
    messages.push(event.data);
  });
  const closed = new Promise<Closed>((resolve) => ws.addEventListener("close", (e) => resolve({ code: e.code, reason: e.reason, at: Date.now() })));
  return {
    ws,
    closed,
    /** The next message, waiting for it when none is queued. */
    async next(): Promise<Message> {
      await until(() => messages.length > 0);
      return messages.shift()!;
    },
  };
}

const upgrade = (path: string, headers: Record<string, string> = {}) =>
  new Request(`${ORIGIN}${path}`, { headers: { Upgrade: "websocket", ...headers } });

/** Options for a socket with nothing to check, `onClose` recorded; tests add the rest. */
function withDefaults(overrides: Partial<WebSocketProxyOptions> = {}) {
  const closes: WebSocketCloseEvent[] = [];
  const options: WebSocketProxyOptions = {
    send: (request) => fetch(request),
    now: () => Date.now(),
    recheckEvery: 60_000,
    endsAt: Number.POSITIVE_INFINITY,
    onClose: (event) => closes.push(event),
    ...overrides,
  };
  return { options, closes };
}

/** What the origin saw of connection `id`: its closes once one has arrived. */
async function originLog(id: string): Promise<{ connections: number; messages: number; closes: Array<{ code: number; reason: string }> }> {
  return (await fetch(`${ORIGIN}/log?id=${id}`)).json();
}
async function originCloses(id: string) {
  let log = await originLog(id);
  await until(async () => (log = await originLog(id)).closes.length > 0);
  return log.closes;
}

/** A /echo socket through the proxy, past the origin's first (handshake) message. */
async function echoClient(overrides: Partial<WebSocketProxyOptions> = {}) {
  const id = freshId("echo");
  const { options, closes } = withDefaults(overrides);
  const client = openClient(await proxyWebSocket(upgrade(`/echo?id=${id}`), options));
  const handshake = JSON.parse((await client.next()) as string);
  return { id, client, closes, handshake };
}

const bytes = (message: Message) => [...new Uint8Array(message as ArrayBuffer)];

describe("proxyWebSocket: the handshake", () => {
  it("sends the origin the identity headers the gate set, none the client sent, and the runtime's own key", async () => {
    const id = freshId("identity");
    const incoming = new Request(`https://gate.example/echo?id=${id}`, {
      headers: {
        Upgrade: "websocket",
        Connection: "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
        "X-Gate-User": "mallory",
        x_gate_roles: "admin",
      },
    });
    const session = { sid: "sid-1", sub: "alice", roles: ["user"], authTime: 1_700_000_000_000 } as SessionRecord;
    const parts = { request: incoming, path: "/echo", clientIp: "203.0.113.7", cookieName: "__Host-session", requestId: "req-1" };
    const upstream = upstreamRequest(`${ORIGIN}/echo?id=${id}`, { ...parts, session, assertion: "signed.jwt.here" });
    expect(upstream.headers.get("upgrade")).toBeNull(); // stripped as hop-by-hop: proxyWebSocket sets it again
    const client = openClient(await proxyWebSocket(upstream, withDefaults().options));
    const { headers } = JSON.parse((await client.next()) as string);
    expect(headers).toMatchObject({
      "x-gate-user": "alice",
      "x-gate-roles": "user",
      "x-gate-session": "sid-1",
      "x-gate-assertion": "signed.jwt.here",
    });
    expect(headers).toMatchObject({ upgrade: "websocket", "sec-websocket-version": "13", "x-forwarded-for": "203.0.113.7" });
    expect(headers["sec-websocket-key"]).not.toBe("dGhlIHNhbXBsZSBub25jZQ==");
    expect(headers.x_gate_roles).toBeUndefined();
  });

  it("gives the client the origin's subprotocol, and none of the other headers of the origin's 101", async () => {
    const offer = { "Sec-WebSocket-Protocol": "chat.v2, chat.v1", "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits" };
    const direct = await fetch(upgrade(`/subprotocol?id=${freshId("direct")}`, offer));
    // The origin's own 101 does carry them: the proxy has something to leave out.
    expect(direct.headers.get("x-gate-logout")).toBe("user");
    expect(direct.headers.get("set-cookie")).toBe("origin=1; Path=/");
    expect(direct.headers.get("sec-websocket-extensions")).toContain("permessage-deflate");
    direct.webSocket!.accept();
    direct.webSocket!.close(1000);

    const response = await proxyWebSocket(upgrade(`/subprotocol?id=${freshId("protocol")}`, offer), withDefaults().options);
    expect([...response.headers]).toEqual([["sec-websocket-protocol", "chat.v2"]]);
    const client = openClient(response);
    client.ws.send("compressed hop");
    expect(await client.next()).toBe("compressed hop");
  });

  it("returns an origin's refusal as it is: nothing upgraded, no timers", async () => {
    const recheck = vi.fn(async () => true);
    let refusal: Response | undefined;
    const send = async (request: Request) => (refusal = await fetch(request));
    const { options, closes } = withDefaults({ send, recheck, recheckEvery: 50 });
    const response = await proxyWebSocket(upgrade(`/reject?id=${freshId("reject")}`), options);
    expect(response).toBe(refusal);
    expect(response.status).toBe(403);
    expect(response.webSocket).toBeNull();
    expect(response.headers.get("x-origin")).toBe("refused");
    await sleep(150);
    expect(recheck).not.toHaveBeenCalled();
    expect(closes).toEqual([]);
  });

  it("refuses timings no timer can keep, before anything reaches the origin", async () => {
    const send = vi.fn((request: Request) => fetch(request));
    const recheck = async () => true;
    for (const recheckEvery of [0, -1, Number.NaN, 2 ** 31]) {
      await expect(proxyWebSocket(upgrade("/echo"), withDefaults({ send, recheck, recheckEvery }).options)).rejects.toThrow(RangeError);
    }
    await expect(proxyWebSocket(upgrade("/echo"), withDefaults({ send, endsAt: Number.NaN }).options)).rejects.toThrow(RangeError);
    expect(send).not.toHaveBeenCalled();
  });
});

describe("proxyWebSocket: messages", () => {
  it("passes text and binary messages unchanged both ways", async () => {
    const { client } = await echoClient();
    client.ws.send("hello");
    expect(await client.next()).toBe("hello");
    client.ws.send("é✓ unicode");
    expect(await client.next()).toBe("é✓ unicode");
    client.ws.send(new Uint8Array([0, 1, 2, 253, 254, 255]));
    const binary = await client.next();
    expect(binary).toBeInstanceOf(ArrayBuffer);
    expect(bytes(binary)).toEqual([0, 1, 2, 253, 254, 255]);
    client.ws.send("");
    expect(await client.next()).toBe("");
  });

  it("passes a 1 MiB binary message whole, in both directions", async () => {
    const { client } = await echoClient();
    const big = new Uint8Array(1024 * 1024).map((_, i) => (i * 31 + (i >> 10)) & 0xff);
    client.ws.send(big);
    const echoed = await client.next();
    expect(echoed).toBeInstanceOf(ArrayBuffer);
    const received = new Uint8Array(echoed as ArrayBuffer);
    expect(received.byteLength).toBe(big.byteLength);
    // The first differing byte, if any (toEqual on a million elements takes seconds).
    expect(received.findIndex((byte, i) => byte !== big[i])).toBe(-1);
  });
});

describe("proxyWebSocket: closes", () => {
  it("passes the client's close code and reason on to the origin", async () => {
    const { id, client, closes } = await echoClient();
    client.ws.close(4002, "client bye");
    expect(await client.closed).toMatchObject({ code: 4002, reason: "client bye" });
    expect(await originCloses(id)).toEqual([{ code: 4002, reason: "client bye" }]);
    expect(closes).toEqual([{ reason: "client_closed", code: 4002, detail: "client bye" }]);
  });

  it("passes the origin's close code and reason on to the client", async () => {
    const { options, closes } = withDefaults();
    const client = openClient(await proxyWebSocket(upgrade(`/close?id=${freshId("close")}&code=4001&reason=bye`), options));
    expect(await client.closed).toMatchObject({ code: 4001, reason: "bye" });
    expect(closes).toEqual([{ reason: "origin_closed", code: 4001, detail: "bye" }]);
  });

  it("passes a close without a code on as one without a code (1005)", async () => {
    const { id, client, closes } = await echoClient();
    client.ws.close();
    expect(await originCloses(id)).toEqual([{ code: 1005, reason: "" }]);
    expect(closes).toEqual([{ reason: "client_closed", code: 1005 }]);
  });

  it("closes the client with 1011 when the origin drops the connection without a close (1006)", async () => {
    const { options, closes } = withDefaults();
    const client = openClient(await proxyWebSocket(upgrade(`/drop?id=${freshId("drop")}`), options));
    client.ws.send("drop now");
    expect(await client.closed).toMatchObject({ code: 1011, reason: "origin connection lost" });
    expect(closes).toHaveLength(1);
    expect(closes[0]).toMatchObject({ reason: "origin_closed", code: 1006 });
  });

  it("answers the client's close at once, even when the origin (a Worker behind a binding) never answers its own", async () => {
    const pair = new WebSocketPair();
    const workerOrigin = pair[1];
    workerOrigin.accept({ allowHalfOpen: true }); // and never close(): its Close frame never comes
    const received = new Promise<number>((resolve) => workerOrigin.addEventListener("close", (event) => resolve(event.code)));
    const send = async () => new Response(null, { status: 101, webSocket: pair[0] });
    const { options, closes } = withDefaults({ send });
    const client = openClient(await proxyWebSocket(upgrade("/any"), options));
    client.ws.close(4002, "client bye");
    expect(await received).toBe(4002);
    expect(await Promise.race([client.closed, sleep(500).then(() => "no answer")])).toMatchObject({ code: 4002, reason: "client bye" });
    expect(closes).toEqual([{ reason: "client_closed", code: 4002, detail: "client bye" }]);
  });

  it("still closes both sides when onClose throws", async () => {
    const onClose = vi.fn(() => {
      throw new Error("logger down");
    });
    const { id, client } = await echoClient({ onClose });
    client.ws.close(4003, "bye anyway");
    expect(await originCloses(id)).toEqual([{ code: 4003, reason: "bye anyway" }]);
    expect(onClose).toHaveBeenCalledTimes(1);
  });
});

describe("proxyWebSocket: the session", () => {
  const INTERVAL = 150;
  const SLACK = 100; // timer and I/O latency inside workerd, measured at 0–5 ms

  it("closes the client with 1008 'session ended' within one recheck interval once recheck says so", async () => {
    let alive = true;
    const recheck = vi.fn(async () => alive);
    const { id, client, closes } = await echoClient({ recheck, recheckEvery: INTERVAL });
    await until(() => recheck.mock.calls.length >= 1);
    client.ws.send("still here");
    expect(await client.next()).toBe("still here");
    alive = false;
    const revokedAt = Date.now();
    const closed = await client.closed;
    expect(closed).toMatchObject({ code: 1008, reason: "session ended" });
    expect(closed.at - revokedAt).toBeLessThanOrEqual(INTERVAL + SLACK);
    expect(await originCloses(id)).toEqual([{ code: 1000, reason: "session ended" }]);
    expect(closes).toEqual([{ reason: "session_ended", code: 1008 }]);
  });

  it("closes the client with 1008 when endsAt passes, between rechecks", async () => {
    const recheck = vi.fn(async () => true);
    const endsAt = Date.now() + 250;
    const { id, client, closes } = await echoClient({ recheck, recheckEvery: 5_000, endsAt });
    const closed = await client.closed;
    expect(closed).toMatchObject({ code: 1008, reason: "session ended" });
    expect(closed.at).toBeGreaterThanOrEqual(endsAt);
    expect(closed.at - endsAt).toBeLessThanOrEqual(SLACK);
    expect(recheck).not.toHaveBeenCalled();
    expect(await originCloses(id)).toEqual([{ code: 1000, reason: "session ended" }]);
    expect(closes).toEqual([{ reason: "absolute_timeout", code: 1008 }]);
  });

  it("asks the client to reconnect (1012) once it has used its recheck budget, while the session still stands", async () => {
    const recheck = vi.fn(async () => true);
    const { id, client, closes } = await echoClient({ recheck, recheckEvery: INTERVAL, maxRechecks: 2 });
    const closed = await client.closed;
    expect(closed).toMatchObject({ code: 1012, reason: "reconnect" });
    expect(recheck).toHaveBeenCalledTimes(2);
    expect(await originCloses(id)).toEqual([{ code: 1012, reason: "reconnect" }]);
    expect(closes).toEqual([{ reason: "recheck_budget", code: 1012 }]);
  });

  it("keeps the socket open while recheck throws, retries at the next tick, and closes once it says false", async () => {
    let answer: "throw" | boolean = "throw";
    const seen: WebSocketActivity[] = [];
    const recheck = vi.fn(async (activity: WebSocketActivity) => {
      seen.push(activity);
      if (answer === "throw") throw new Error("store unreachable");
      return answer;
    });
    const { client, closes } = await echoClient({ recheck, recheckEvery: INTERVAL });
    await until(() => recheck.mock.calls.length >= 2, 2 * INTERVAL + SLACK * 2);
    client.ws.send("after two failures");
    expect(await client.next()).toBe("after two failures");
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
    expect(closes).toEqual([]);
    answer = false;
    const failedCalls = recheck.mock.calls.length;
    expect(await client.closed).toMatchObject({ code: 1008, reason: "session ended" });
    expect(recheck.mock.calls.length).toBe(failedCalls + 1);
    // Nothing was counted as seen while the checks failed: the handshake message and the echo pair are all in the last one.
    expect(seen.at(-1)!.messages).toBe(3);
  });

  it("reports the traffic since the last answer to recheck: its count and the time of the last message", async () => {
    const seen: Array<WebSocketActivity & { at: number }> = [];
    const recheck = vi.fn(async (activity: WebSocketActivity) => (seen.push({ ...activity, at: Date.now() }), true));
    const id = freshId("count");
    const openedAt = Date.now();
    const { options } = withDefaults({ recheck, recheckEvery: INTERVAL });
    const client = openClient(await proxyWebSocket(upgrade(`/count?id=${id}`), options));
    await until(() => seen.length >= 1);
    expect(seen[0]).toMatchObject({ messages: 0 });
    expect(seen[0].since).toBeGreaterThanOrEqual(openedAt);
    for (let i = 0; i < 5; i++) client.ws.send(`message ${i}`);
    const sentAt = Date.now();
    await until(async () => (await originLog(id)).messages === 5);
    const afterSends = seen.length;
    await until(() => seen.length > afterSends);
    const total = () => seen.reduce((sum, activity) => sum + activity.messages, 0);
    expect(total()).toBe(5);
    const last = seen.at(-1)!;
    expect(last.since).toBeGreaterThanOrEqual(sentAt);
    expect(last.since).toBeLessThanOrEqual(last.at);
    await until(() => seen.length > afterSends + 2);
    expect(seen.at(-1)).toMatchObject({ messages: 0, since: last.since }); // quiet since: nothing new to report

    client.ws.send("report");
    expect(JSON.parse((await client.next()) as string)).toEqual({ count: 5 });
    const afterReport = seen.length;
    await until(() => seen.length > afterReport);
    expect(total()).toBe(7); // the request and the origin's answer
  });

  it("runs one recheck at a time when the store is slower than the interval", async () => {
    let running = 0;
    let most = 0;
    const recheck = vi.fn(async () => {
      most = Math.max(most, ++running);
      await sleep(120);
      running -= 1;
      return true;
    });
    const { client } = await echoClient({ recheck, recheckEvery: 30 });
    await until(() => recheck.mock.calls.length >= 3);
    client.ws.close(1000);
    await client.closed;
    expect(most).toBe(1);
  });

  it("calls recheck no more once the socket has closed, whichever side closed it", async () => {
    const recheck = vi.fn(async () => true);
    const { id, client } = await echoClient({ recheck, recheckEvery: 50 });
    await until(() => recheck.mock.calls.length >= 2);
    client.ws.close(1000, "done");
    await originCloses(id);
    const calls = recheck.mock.calls.length;
    await sleep(250);
    expect(recheck).toHaveBeenCalledTimes(calls);

    const fromOrigin = vi.fn(async () => true);
    const { options } = withDefaults({ recheck: fromOrigin, recheckEvery: 50 });
    const closing = openClient(await proxyWebSocket(upgrade(`/close?id=${freshId("closing")}&code=4001&reason=bye`), options));
    await closing.closed;
    await sleep(250);
    expect(fromOrigin).not.toHaveBeenCalled();
  });

  it("calls recheck no more once it has ended the session", async () => {
    const recheck = vi.fn(async () => false);
    const { client } = await echoClient({ recheck, recheckEvery: 50 });
    await client.closed;
    await sleep(250);
    expect(recheck).toHaveBeenCalledTimes(1);
  });
});
