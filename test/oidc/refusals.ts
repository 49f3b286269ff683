// What every refused OIDC step must show: the status and JSON error, the
// reason in the log, nothing created, no session cookie, nothing forwarded.
import { expect } from "vitest";
import { tokenFrom } from "../helpers/gate";
import type { OidcGate } from "./helpers";

/** Asserts a refusal of `response` with `status` and `reason`, and that nothing was created and nothing reached the origin. */
export async function expectRefused(gate: OidcGate, response: Response, status: number, reason: string) {
  const code = { 400: "bad_request", 401: "unauthenticated", 403: "forbidden", 503: "unavailable" }[status];
  expect(response.status).toBe(status);
  expect(await response.json()).toEqual({ error: code });
  expect(response.headers.get("cache-control")).toBe("no-store");
  expect(tokenFrom(response) || undefined).toBeUndefined();
  expect(gate.events("oidc.failed").map((event) => event.reason)).toContain(reason);
  expect(gate.events("session.created")).toEqual([]);
  expect(gate.events("oidc.login")).toEqual([]);
  expect(gate.origin.received).toEqual([]);
}

/** The log lines must never hold a token, a code or a state. */
export function expectNoSecretsLogged(gate: OidcGate, secrets: string[]) {
  const text = JSON.stringify(gate.logs);
  for (const secret of secrets.filter(Boolean)) expect(text).not.toContain(secret);
}
