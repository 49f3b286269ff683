/**
 * A stand-in for the gate's DBSC endpoints, wired from src/dbsc/ only, for the
 * flow tests: one session, generation-numbered tokens, bound cookies that the
 * "origin" accepts for `ttlSeconds` after issue. Not the gate's design, just
 * the smallest composition that lets the test client run the whole protocol.
 */
import { hmacKey } from "../../src/derive";
import { CHALLENGE_KEY_INFO, createChallenges } from "../../src/dbsc/challenge";
import { boundCookie, cookieAttributes, sessionConfig } from "../../src/dbsc/config";
import { challengeHeader, readProofHeader, readSessionId, registrationHeader } from "../../src/dbsc/headers";
import { type ProofFailure, verifyRefresh, verifyRegistration } from "../../src/dbsc/proof";
import type { DeviceKey } from "../../src/store/types";

export const GATE_ORIGIN = "https://gate.example";
export const GATE_SID = "q3Zq1cS7bV0r9mPzYw2xkA";
const COOKIE = { name: "__Host-session", sameSite: "Lax" as const };

/** What the mini gate exposes to tests. */
export interface MiniGate {
  fetch(path: string, init: RequestInit): Promise<Response>;
  /** Every refused proof's reason, in order. */
  readonly failures: ProofFailure[];
  readonly state: { gen: number; device?: DeviceKey; issuedAt: number };
}

/** Creates the mini gate on an injected clock. */
export async function createMiniGate(now: () => number, ttlSeconds = 600): Promise<MiniGate> {
  const challenges = createChallenges(await hmacKey("test-gate-secret", CHALLENGE_KEY_INFO, ["sign", "verify"]), now);
  const state: MiniGate["state"] = { gen: 0, issuedAt: now() };
  const failures: ProofFailure[] = [];
  const token = () => `tok${state.gen}`;
  const cookieOf = (req: Request) => /(?:^|;\s*)__Host-session=([^;]*)/.exec(req.headers.get("Cookie") ?? "")?.[1];
  const refreshChallenge = async () => challengeHeader(await challenges.issue(GATE_SID, state.gen, "refresh"), GATE_SID);
  /** Moves the session to its next generation and answers with its first bound cookie. */
  const advance = async (body: BodyInit | null) => {
    state.gen++;
    state.issuedAt = now();
    const headers = new Headers({ "Secure-Session-Challenge": await refreshChallenge() });
    headers.append("Set-Cookie", boundCookie(COOKIE, token(), ttlSeconds));
    return new Response(body, { headers });
  };
  const refuse = async (reason?: ProofFailure) => {
    if (reason) failures.push(reason);
    return new Response(null, { status: 403, headers: { "Secure-Session-Challenge": await refreshChallenge() } });
  };

  const routes: Record<string, (req: Request) => Promise<Response>> = {
    "GET /login": async () => {
      const challenge = await challenges.issue(GATE_SID, state.gen, "registration");
      const headers = new Headers({ "Secure-Session-Registration": registrationHeader({ challenge, path: "/_gate/dbsc/registration" }) });
      headers.append("Set-Cookie", `__Host-session=${token()}; Path=/; Max-Age=86400; Secure; HttpOnly; SameSite=Lax`);
      return new Response("welcome", { headers });
    },
    "POST /_gate/dbsc/registration": async (req) => {
      if (cookieOf(req) !== token() || state.device) return new Response(null, { status: 401 });
      const gen = state.gen;
      const result = await verifyRegistration(readProofHeader(req.headers.get("Secure-Session-Response")), {
        expectChallenge: (jti) => challenges.verify(jti, GATE_SID, gen, "registration"),
      });
      if (!result.ok) return (failures.push(result.reason), new Response(null, { status: 400 }));
      state.device = result.key;
      const config = sessionConfig({
        sessionId: GATE_SID,
        origin: GATE_ORIGIN,
        refreshPath: "/_gate/dbsc/refresh",
        cookie: { name: COOKIE.name, attributes: cookieAttributes("Lax") },
      });
      return advance(JSON.stringify(config));
    },
    "POST /_gate/dbsc/refresh": async (req) => {
      if (readSessionId(req.headers.get("Sec-Secure-Session-Id")) !== GATE_SID || !state.device) return new Response(null, { status: 404 });
      const proof = readProofHeader(req.headers.get("Secure-Session-Response"));
      if (proof === undefined) return refuse();
      const gen = state.gen;
      const result = await verifyRefresh(proof, state.device, { expectChallenge: (jti) => challenges.verify(jti, GATE_SID, gen, "refresh") });
      return result.ok ? advance(null) : refuse(result.reason);
    },
  };

  return {
    failures,
    state,
    async fetch(path, init) {
      const req = new Request(new URL(path, GATE_ORIGIN), init);
      const route = routes[`${req.method} ${new URL(req.url).pathname}`];
      if (route) return route(req);
      const fresh = !state.device || now() - state.issuedAt <= ttlSeconds * 1000;
      return cookieOf(req) === token() && fresh ? new Response(`ok gen=${state.gen}`) : new Response("unauthenticated", { status: 401 });
    },
  };
}
