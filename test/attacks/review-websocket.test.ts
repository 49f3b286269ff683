/**
 * Red-team review of WebSockets through the gate (contract §11, §15): a thief's
 * socket, a foreign page's socket, and an origin that refuses an upgrade.
 * Sockets reach the real `ws` origin of test/ws/global-setup.ts; rechecks run every 1 s.
 */
import { afterEach, describe, expect, inject, it } from "vitest";
import { cookie, createTestGate } from "../helpers/gate";
import { type RealGate, boundBrowser, dbscGate, userSeen } from "../dbsc/real-gate";

const WS_ORIGIN = inject("wsOriginUrl");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let serial = 0;
const freshId = () => `review-${++serial}-${Date.now()}`;
const ROUTES = [{ path: "/login", access: "public" }, { path: "/public/*", access: "public" }, { path: "/*" }];

/** Upgrades go to the real WebSocket origin; everything else to the recording origin. */
function upgradesToWsOrigin(gate: RealGate): RealGate {
  const recording = gate.origin.fetch.bind(gate.origin);
  gate.origin.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    if (request.headers.get("upgrade") !== "websocket") return recording(request);
    const url = new URL(request.url);
    return fetch(`${WS_ORIGIN}/echo${url.search}`, { headers: request.headers });
  };
  return gate;
}

const opened: WebSocket[] = [];
afterEach(() => {
  for (const ws of opened.splice(0)) if (ws.readyState === WebSocket.OPEN) ws.close(1000);
});

/** A handshake to `path` (default /echo), with the gate's own Origin unless `headers` say otherwise. */
async function connect(gate: RealGate, headers: Record<string, string>, path = "/echo") {
  const id = freshId();
  const response = await gate.request(`${path}?id=${id}`, { headers: { Upgrade: "websocket", Origin: "https://gate.example", ...headers } });
  if (response.status !== 101 || !response.webSocket) return { response, id };
  const ws = response.webSocket;
  ws.accept();
  opened.push(ws);
  const messages: string[] = [];
  ws.addEventListener("message", (event) => void messages.push(String(event.data)));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.addEventListener("close", (e) => resolve({ code: e.code, reason: e.reason })),
  );
  const next = async () => {
    for (let i = 0; i < 200 && messages.length === 0; i++) await sleep(10);
    return messages.shift();
  };
  return { response, id, ws, closed, next };
}

const originConnections = async (id: string) => ((await (await fetch(`${WS_ORIGIN}/log?id=${id}`)).json()) as { connections: number }).connections;

describe("review: a socket opened with a stolen device-bound cookie", () => {
  // Found by the red-team review and fixed (medium). Contract §12: "A stolen cookie is worth at most device_cookie_ttl". A
  // handshake with the stolen bound cookie inside its ttl opens a socket that
  // src/session/device.ts stillValid() keeps for the session's whole life: it checks that
  // the session stands, never that the handshake's bound token is still within its ttl
  // (and the thief's own traffic even keeps the session from idling out).
  // The fix: for a device-bound session, end the socket when the handshake token's ttl runs out:
  // in src/proxy/forward.ts socket(), endsAt = min(expiresAt, rotatedAt + device_cookie_ttl)
  // when session.device is set (the page reconnects with its refreshed cookie), or make
  // stillValid() refuse once the handshake token's generation is past its ttl.
  it("is closed with 1008 once the cookie's device_cookie_ttl has passed", async () => {
    const gate = upgradesToWsOrigin(await dbscGate({ gate: { websocket: { recheck: "1s" }, routes: ROUTES } }));
    const { client } = await boundBrowser(gate, "ES256");
    const stolen = client.exportCookie()?.value ?? "";
    const socket = await connect(gate, cookie(stolen));
    expect(socket.response.status).toBe(101);

    gate.clock.advance(10 * 60_000 + 1_000);
    expect((await gate.request("/app", { headers: { ...cookie(stolen), Accept: "application/json" } })).status).toBe(401); // over HTTP it is worthless now
    expect(await userSeen(await client.request("/app"))).toBe("alice"); // the device refreshed and goes on

    const outcome = await Promise.race([socket.closed, sleep(3_000).then(() => "still open")]);
    expect(outcome).toMatchObject({ code: 1008, reason: "session ended" });
  });
});

describe("review: cross-site WebSocket hijacking (held)", () => {
  it("refuses a cookie handshake whose Origin is null, a look-alike or another scheme, before the origin sees it", async () => {
    const gate = upgradesToWsOrigin(await createTestGate({ gate: { websocket: { recheck: "1s" }, routes: ROUTES } }));
    const token = await gate.login("ws-review");
    for (const origin of ["null", "https://gate.example.evil.example", "http://gate.example", "https://gate.example:8443", "HTTPS://GATE.EXAMPLE"]) {
      const socket = await connect(gate, { ...cookie(token), Origin: origin, Accept: "application/json" });
      expect(socket.response.status, origin).toBe(403);
      expect(await socket.response.json()).toEqual({ error: "csrf" });
      expect(await originConnections(socket.id)).toBe(0);
    }
  });

  it("refuses a foreign page's socket to a public route too when it carries the cookie (identity would ride along)", async () => {
    const gate = upgradesToWsOrigin(await createTestGate({ gate: { websocket: { recheck: "1s" }, routes: ROUTES } }));
    const token = await gate.login("ws-review");
    const foreign = await connect(gate, { ...cookie(token), Origin: "https://evil.example", Accept: "application/json" }, "/public/socket");
    expect(foreign.response.status).toBe(403);
    expect(await originConnections(foreign.id)).toBe(0);
    const anonymous = await connect(gate, { Origin: "https://evil.example" }, "/public/socket");
    expect(anonymous.response.status).toBe(101); // without a session a public socket carries nobody's identity
  });

  it("never hands the session token to the origin in the upgrade, nor lets a forged identity through", async () => {
    const gate = upgradesToWsOrigin(await createTestGate({ gate: { websocket: { recheck: "1s" }, routes: ROUTES } }));
    const token = await gate.login("ws-review", ["user"]);
    const socket = await connect(gate, {
      Cookie: `theme=dark; __Host-session=${token}`,
      "X-Gate-Assertion": "forged",
      "X-Gate-Auth-Time": "0",
      "X-Original-URL": "/admin",
      "X-Forwarded-For": "10.0.0.1",
    });
    expect(socket.response.status).toBe(101);
    const { headers } = JSON.parse((await socket.next?.()) ?? "{}") as { headers: Record<string, string> };
    expect(JSON.stringify(headers)).not.toContain(token);
    expect(headers.cookie).toBe("theme=dark");
    expect(headers["x-gate-assertion"]).not.toBe("forged");
    expect(headers["x-gate-auth-time"]).not.toBe("0");
    expect(headers["x-original-url"]).toBeUndefined();
    expect(headers["x-forwarded-for"]).toBe("203.0.113.7");
  });
});

describe("review: an origin that refuses an upgrade", () => {
  // Found by the red-team review and fixed (low). src/proxy/forward.ts returns a non-101 answer to an upgrade as it is,
  // without readOriginInstructions(): an origin refusing the socket with
  // `X-Gate-Logout: session` (it saw abuse, or the user's account was closed) is ignored
  // (the header is stripped, the session lives on), though the same answer to a GET ends it.
  // The fix: in forward() socket(), when proxyWebSocket's answer is not a 101, run
  // readOriginInstructions(c, response, instructions) as for any other response.
  it("carries out X-Gate-Logout on a refused upgrade, as on any other response", async () => {
    const gate = await createTestGate();
    const token = await gate.login("ws-refused");
    gate.origin.reply(() => new Response("no sockets for you", { status: 403, headers: { "X-Gate-Logout": "session" } }));
    const refused = await gate.request("/echo", { headers: { Upgrade: "websocket", Origin: "https://gate.example", ...cookie(token) } });
    expect(refused.status).toBe(403);
    expect(refused.headers.get("x-gate-logout")).toBeNull();
    gate.origin.reply((_request, seen) => Response.json(seen));

    const after = await gate.request("/_gate/session", { headers: cookie(token) });
    expect(after.status).toBe(401);
  });
});
