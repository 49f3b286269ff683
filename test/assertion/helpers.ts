import { env } from "cloudflare:test";
import { GATE_URL, type createTestGate } from "../helpers/gate";
import type { Received } from "../helpers/origin";
import { createKvStore } from "../../src/store/kv";
import type { SessionStore } from "../../src/store/types";
import type { VerifyAssertionOptions } from "../../origin/index.mjs";

export type Gate = Awaited<ReturnType<typeof createTestGate>>;

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const JWKS_URL = `${GATE_URL}/_gate/jwks.json`;

/**
 * Real miniflare KV for sessions, with the keyset under a key of its own: the
 * tests of a file share one KV, and each moves its own clock through its own
 * key rotations. `raw()` reads the keyset text exactly as stored.
 */
export function isolatedKvStore(): SessionStore & { raw: () => Promise<string | null> } {
  const key = `kst:test:${crypto.randomUUID()}`;
  return {
    ...createKvStore(env.SESSIONS),
    readKeyset: () => env.SESSIONS.get(key),
    writeKeyset: (value: string) => env.SESSIONS.put(key, value),
    raw: () => env.SESSIONS.get(key),
  };
}

/** The gate's JWKS, fetched through the gate itself. */
export async function jwksOf(gate: Gate): Promise<{ keys: Array<Record<string, string>> }> {
  const response = await gate.request("/_gate/jwks.json");
  if (response.status !== 200) throw new Error(`jwks answered ${response.status}`);
  return response.json();
}

/** The request as the origin received it, as a Fetch Request (what a Workers or Hono origin sees). */
export const asFetchRequest = (seen: Received) => new Request(seen.url, { method: seen.method, headers: seen.headers });

/** The same request as a Node/Express origin sees it: a path, and headers by lower-case name. */
export const asNodeRequest = (seen: Received, prefix = "") => {
  const url = new URL(seen.url);
  return { method: seen.method, url: `${prefix}${url.pathname}${url.search}`, headers: { ...seen.headers } };
};

/**
 * Options for verifyAssertion against this gate: its JWKS fetched through the
 * gate (a fresh key set cache per call unless `fetch` is shared), at the gate's clock.
 */
export function verifying(gate: Gate, overrides: Partial<VerifyAssertionOptions> = {}): VerifyAssertionOptions {
  return {
    jwksUrl: JWKS_URL,
    fetch: (url: string) => gate.request(new URL(url).pathname),
    issuer: GATE_URL,
    audience: GATE_URL,
    currentDate: new Date(gate.clock.now),
    ...overrides,
  };
}

/** The payload of a JWT, unverified: for looking, never for trusting. */
export const payloadOf = (jwt: string) => JSON.parse(atob(jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;
/** The protected header of a JWT, unverified. */
export const headerOf = (jwt: string) => JSON.parse(atob(jwt.split(".")[0].replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;

/** A token with its payload changed and the original signature kept. */
export function tampered(jwt: string, change: Record<string, unknown>): string {
  const [header, , signature] = jwt.split(".");
  const body = btoa(JSON.stringify({ ...payloadOf(jwt), ...change }))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
  return `${header}.${body}.${signature}`;
}
