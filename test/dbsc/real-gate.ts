/**
 * The DBSC test client (client.ts) against the whole gate (createTestGate):
 * a browser profile that logs in through the origin's X-Gate-Login, registers
 * when the login response offers it, and from then on refreshes as the draft
 * says whenever its bound cookie has expired.
 */
import { GATE_URL, type TestGateOptions, createTestGate, signLogin } from "../helpers/gate";
import { type DbscAlgorithm, type DbscClient, createDbscClient } from "./client";

export type RealGate = Awaited<ReturnType<typeof createTestGate>>;

/** A gate with bound sessions offered and a 10-minute bound cookie, unless `gate.session` says otherwise. */
export async function dbscGate(options: TestGateOptions & { session?: Record<string, unknown> } = {}): Promise<RealGate> {
  const { session, ...rest } = options;
  const base = { idle_timeout: "30m", absolute_timeout: "12h", rotate_every: "15m", rotation_grace: "30s", binding: "report" };
  return createTestGate({ ...rest, gate: { ...rest.gate, session: { ...base, device_cookie_ttl: "10m", ...session } } });
}

/** A browser profile on `gate`: its requests go through the gate, with its cookie jar, from 203.0.113.7. */
export function browserOn(gate: RealGate, algorithm: DbscAlgorithm, wire: "draft" | "chrome" = "chrome"): Promise<DbscClient> {
  return createDbscClient({
    fetch: (path, init) => gate.request(path, { ...init, headers: Object.fromEntries(new Headers(init.headers)) }),
    origin: GATE_URL,
    algorithm,
    wire,
    now: () => gate.clock.now,
    maxChallengeRetries: 4,
  });
}

/** Logs `sub` in from `client` (the origin answers POST /login with X-Gate-Login) and returns the login response. */
export async function logIn(gate: RealGate, client: DbscClient, sub: string, roles: string[] = ["user"]): Promise<Response> {
  const jwt = await signLogin({ sub, roles }, Math.floor(gate.clock.now / 1_000));
  gate.origin.reply(() => new Response("welcome", { headers: { "X-Gate-Login": jwt } }));
  const response = await client.request("/login", { method: "POST", headers: { "Sec-Fetch-Site": "same-origin" } });
  gate.origin.reply((_request, seen) => Response.json(seen));
  if (response.status !== 200) throw new Error(`login of ${sub}: ${response.status} ${await response.text()}`);
  return response;
}

/** Logs in and registers: a bound session. */
export async function boundBrowser(gate: RealGate, algorithm: DbscAlgorithm, sub = "alice", wire: "draft" | "chrome" = "chrome") {
  const client = await browserOn(gate, algorithm, wire);
  await logIn(gate, client, sub);
  const registered = await client.register();
  if (registered.kind !== "registered") throw new Error(`registration failed: ${JSON.stringify(registered)}`);
  const sid = registered.session.id;
  return { client, sid, registered };
}

/** What the origin said it saw as the user of a request (the recording origin echoes the headers it got). */
export async function userSeen(response: Response): Promise<string | undefined> {
  if (response.status !== 200) return undefined;
  const seen = (await response.json()) as { headers: Record<string, string> };
  return seen.headers["x-gate-user"];
}
