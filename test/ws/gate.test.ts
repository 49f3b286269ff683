// WebSockets through the whole gate (contract §11): a real client end (the 101's
// webSocket, accepted here), the gate in workerd, and the real `ws` origin of
// global-setup.ts. Timings are short: websocket.recheck is 1 s.
import { afterEach, describe, expect, inject, it } from "vitest";
import { ADMIN_TOKEN, cookie, createTestGate } from "../helpers/gate";

const ORIGIN = inject("wsOriginUrl");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let serial = 0;
const freshId = () => `gate-${++serial}-${Date.now()}`;

/**
 * A gate whose origin (the test's recording origin, bound as ORIGIN) hands
 * every upgrade to the real WebSocket origin: logins still go to the recording
 * origin. /echo needs a session unless `publicEcho`.
 */
async function wsGate(options: { publicEcho?: boolean; session?: Record<string, unknown>; recheck?: string; maxRechecks?: number } = {}) {
  const gate = await createTestGate({
    gate: {
      websocket: { recheck: options.recheck ?? "1s", ...(options.maxRechecks && { max_rechecks: options.maxRechecks }) },
      ...(options.session && {
        session: { idle_timeout: "30m", absolute_timeout: "12h", rotate_every: "15m", rotation_grace: "30s", ...options.session },
      }),
      routes: [{ path: "/login", access: "public" }, { path: "/echo", access: options.publicEcho ? "public" : "session" }, { path: "/*" }],
    },
  });
  const recording = gate.origin.fetch.bind(gate.origin);
  gate.origin.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    if (request.headers.get("upgrade") !== "websocket") return recording(request);
    const url = new URL(request.url);
    return fetch(`${ORIGIN}${url.pathname}${url.search}`, { headers: request.headers });
  };
  return gate;
}

type Gate = Awaited<ReturnType<typeof wsGate>>;
const opened: WebSocket[] = [];
afterEach(() => {
  for (const ws of opened.splice(0)) if (ws.readyState === WebSocket.OPEN) ws.close(1000);
});

/** Opens a socket through the gate, as a browser on the gate's own page would. */
async function connect(gate: Gate, headers: Record<string, string>, id = freshId()) {
  const response = await gate.request(`/echo?id=${id}`, { headers: { Upgrade: "websocket", Origin: "https://gate.example", ...headers } });
  if (response.status !== 101) return { response, id, next: async (): Promise<string | undefined> => undefined };
  const ws = response.webSocket!;
  ws.accept();
  opened.push(ws);
  const messages: string[] = [];
  ws.addEventListener("message", (event) => void messages.push(String(event.data)));
  const closed = new Promise<{ code: number; reason: string; at: number }>((resolve) =>
    ws.addEventListener("close", (e) => resolve({ code: e.code, reason: e.reason, at: Date.now() })),
  );
  const next = async () => {
    for (let i = 0; i < 200 && messages.length === 0; i++) await sleep(10);
    return messages.shift();
  };
  return { response, id, ws, closed, next };
}

/** How many connections the origin saw with this id: a refusal must leave it at 0. */
const originConnections = async (id: string) => ((await (await fetch(`${ORIGIN}/log?id=${id}`)).json()) as { connections: number }).connections;

describe("WebSockets through the gate", () => {
  it("relays a session's socket with its identity, and strips what the client forged", async () => {
    const gate = await wsGate();
    const token = await gate.login("ws-alice", ["user"]);
    const socket = await connect(gate, { ...cookie(token), "X-Gate-User": "mallory", x_gate_roles: "admin" });
    expect(socket.response.status).toBe(101);
    const handshake = JSON.parse((await socket.next())!) as { headers: Record<string, string> };
    expect(handshake.headers["x-gate-user"]).toBe("ws-alice");
    expect(handshake.headers["x-gate-roles"]).toBe("user");
    expect(handshake.headers["x-gate-assertion"]).toMatch(/^ey/);
    expect(Object.keys(handshake.headers).filter((name) => name.includes("gate_"))).toEqual([]);
    socket.ws!.send("ping");
    expect(await socket.next()).toBe("ping");
    expect(socket.response.headers.getSetCookie()).toEqual([]);
  });

  it("refuses a cookie handshake from another origin, or with none, before the origin sees it", async () => {
    const gate = await wsGate();
    const token = await gate.login("ws-bob");
    for (const origin of ["https://evil.example", undefined]) {
      const headers: Record<string, string> = { ...cookie(token), Accept: "application/json" };
      const socket = await connect(gate, origin ? { ...headers, Origin: origin } : { ...headers, Origin: "" });
      expect(socket.response.status).toBe(403);
      expect(await socket.response.json()).toEqual({ error: "csrf" });
      expect(await originConnections(socket.id)).toBe(0);
    }
  });

  it("answers 401 to a handshake without a session, before the origin sees it", async () => {
    const gate = await wsGate();
    const socket = await connect(gate, { Accept: "application/json" });
    expect(socket.response.status).toBe(401);
    expect(await originConnections(socket.id)).toBe(0);
  });

  it("does not rotate on an upgrade, even when rotation is due", async () => {
    const gate = await wsGate();
    const token = await gate.login("ws-carol");
    gate.clock.advance(16 * 60_000);
    const socket = await connect(gate, cookie(token));
    expect(socket.response.status).toBe(101);
    expect(gate.events("session.rotated")).toEqual([]);
  });

  it("asks the client to reconnect (1012) after websocket.max_rechecks, and the session stands for the new socket", async () => {
    const gate = await wsGate({ maxRechecks: 1 });
    const token = await gate.login("ws-budget");
    const socket = await connect(gate, cookie(token));
    await socket.next();
    expect(await socket.closed!).toMatchObject({ code: 1012, reason: "reconnect" });
    expect(gate.events("session.websocket_closed").at(-1)).toMatchObject({ reason: "recheck_budget", code: 1012 });
    expect((await connect(gate, cookie(token))).response.status).toBe(101);
  });

  it("closes an open socket with 1008 within the recheck interval once an admin revokes the session", async () => {
    const gate = await wsGate();
    const token = await gate.login("ws-dave");
    const socket = await connect(gate, cookie(token));
    await socket.next();
    const sid = gate.events("session.created")[0].sid as string;
    const revokedAt = Date.now();
    await gate.request(`/_gate/admin/sessions/${sid}`, { method: "DELETE", headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    const closed = await socket.closed!;
    expect(closed).toMatchObject({ code: 1008, reason: "session ended" });
    expect(closed.at - revokedAt).toBeLessThan(2_500);
    expect(gate.events("session.websocket_closed")).toEqual([expect.objectContaining({ reason: "session_ended", code: 1008, sid })]);
  });

  it("closes every socket of a user when they log out everywhere", async () => {
    const gate = await wsGate();
    const [laptop, phone] = [await gate.login("ws-erin"), await gate.login("ws-erin")];
    const sockets = [await connect(gate, cookie(laptop)), await connect(gate, cookie(phone))];
    gate.origin.reply(() => new Response(null, { status: 204, headers: { "X-Gate-Logout": "user" } }));
    await gate.request("/logout-everywhere", { method: "POST", headers: { ...cookie(laptop), "Sec-Fetch-Site": "same-origin" } });
    for (const socket of sockets) expect(await socket.closed!).toMatchObject({ code: 1008, reason: "session ended" });
  });

  it("closes a socket at the session's absolute end, between rechecks", async () => {
    // Rechecks every 10 s, the session ends 2 s after login: only the absolute-end timer can close it in time.
    const gate = await wsGate({ recheck: "10s", session: { idle_timeout: "2s", absolute_timeout: "2s", rotate_every: "2s", rotation_grace: "1s" } });
    const token = await gate.login("ws-frank");
    const socket = await connect(gate, cookie(token));
    const opened = Date.now();
    gate.clock.advance(2_000); // the gate's clock reaches the end when the timer set for it fires
    const closed = await socket.closed!;
    expect(closed).toMatchObject({ code: 1008, reason: "session ended" });
    expect(closed.at - opened).toBeGreaterThanOrEqual(1_900);
    expect(gate.events("session.websocket_closed")).toEqual([expect.objectContaining({ reason: "absolute_timeout" })]);
  });

  it("counts traffic as use for the idle timeout, and closes a socket whose session idled out", async () => {
    const gate = await wsGate({ session: { idle_timeout: "10m" } });
    const token = await gate.login("ws-gina");
    const socket = await connect(gate, cookie(token));
    await socket.next();
    gate.clock.advance(11 * 60_000);
    expect(await socket.closed!).toMatchObject({ code: 1008, reason: "session ended" });
  });

  it("relays a public route's socket without identity", async () => {
    const gate = await wsGate({ publicEcho: true });
    const socket = await connect(gate, {});
    expect(socket.response.status).toBe(101);
    const handshake = JSON.parse((await socket.next())!) as { headers: Record<string, string> };
    expect(Object.keys(handshake.headers).filter((name) => name.startsWith("x-gate-"))).toEqual([]);
  });
});
