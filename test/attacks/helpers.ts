import { expect } from "vitest";
import { createTestGate } from "../helpers/gate";
import type { LimiterBackend } from "../../src/ratelimit/types";
import type { SessionStore } from "../../src/store/types";

/** A gate under test. */
export type Gate = Awaited<ReturnType<typeof createTestGate>>;

/** Env that puts the gate in redis mode (any limiter period) while the test injects memory store and limiters. */
export const MEMORY_ENV = { SESSION_STORE: "redis", UPSTASH_REDIS_REST_URL: "http://127.0.0.1:1", UPSTASH_REDIS_REST_TOKEN: "unused" };

/** A gate on the in-memory store and limiters, on the test clock, with `gate` merged into the test policy. */
export function memoryGate(gate: Record<string, unknown> = {}, options: { limits?: LimiterBackend; store?: SessionStore } = {}) {
  return createTestGate({ store: options.store ?? "memory", gate, env: MEMORY_ENV, limits: options.limits });
}

/** A store that counts look-ups (a refusal answered from memory costs none). */
export function countingLookups<T extends SessionStore>(store: T): { store: T; lookups: () => number } {
  let count = 0;
  return { store: { ...store, lookup: (hash: string) => (count++, store.lookup(hash)) }, lookups: () => count };
}

/** The refusal and nothing forwarded: what every test of an attack ends with. */
export async function expectRefused(gate: Gate, response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(await response.json()).toEqual({ error: code });
  expect(gate.origin.received).toEqual([]);
}

/** A token-shaped value that is no session's token. */
export const guess = (n: number) => `guess${String(n).padStart(38, "0")}`;
