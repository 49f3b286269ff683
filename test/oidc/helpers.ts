// The gate's OIDC tests: a test gate (test/helpers/gate.ts) with providers
// pointing at the real OpenID Providers of global-setup.ts, and the steps of a
// login, each one a function so a test can break exactly one of them.
import { inject } from "vitest";
import { type TestClock, type TestGateOptions, createTestGate } from "../helpers/gate";
import { type CookieJar, completeLogin, createCookieJar } from "./flow.mjs";

/** A test gate with OIDC providers. */
export type OidcGate = Awaited<ReturnType<typeof createTestGate>>;

/** Which harness provider a gate's `corp` and `pub` point at. */
export type Harness = "shared" | "tamper" | "outage";

const ISSUERS = {
  shared: () => ({ issuer: inject("oidcIssuer"), secret: inject("oidcClientSecret") }),
  tamper: () => ({ issuer: inject("oidcTamperIssuer"), secret: inject("oidcTamperClientSecret") }),
  outage: () => ({ issuer: inject("oidcOutageIssuer"), secret: inject("oidcOutageClientSecret") }),
};

/** The provider's tokens carry the real time: the gate must read the same clock. */
export function realClock(): TestClock {
  return {
    get now() {
      return Date.now();
    },
    advance() {
      throw new Error("an OIDC test gate runs on the real clock");
    },
  };
}

/** The issuer of a harness provider. */
export const issuerOf = (harness: Harness = "shared") => ISSUERS[harness]().issuer;

/**
 * A test gate with `corp` (the confidential client, roles from `groups`) and
 * `pub` (the public client, PKCE only) on a harness provider; `corp` and
 * `gate` replace keys of its table and of `GATE`.
 */
export async function createOidcGate(
  options: { harness?: Harness; corp?: Record<string, unknown>; gate?: Record<string, unknown> } & TestGateOptions = {},
) {
  const { issuer, secret } = ISSUERS[options.harness ?? "shared"]();
  const scopes = ["openid", "email", "profile", "groups"];
  const oidc = {
    corp: { issuer, client_id: "gate-confidential", scopes, roles_claim: "groups", ...options.corp },
    pub: { issuer, client_id: "gate-public", scopes },
  };
  return createTestGate({
    ...options,
    clock: options.clock ?? realClock(),
    gate: { oidc, ...options.gate },
    env: { GATE_OIDC_CORP_CLIENT_SECRET: secret, ...options.env },
  });
}

/** `name=value` of the transaction cookie a login response sets. */
export function transactionCookieOf(response: Response): string {
  const line = response.headers.getSetCookie().find((value) => value.startsWith("__Host-gate-oidc-") && !value.includes("Max-Age=0"));
  if (!line) throw new Error(`no transaction cookie in ${JSON.stringify(response.headers.getSetCookie())}`);
  return line.split(";")[0];
}

/** Step 1: GET the gate's login; returns its answer, the authorization URL and the transaction cookie. */
export async function startLogin(gate: OidcGate, { provider = "corp", query = "?next=/dashboard", headers = {} as Record<string, string> } = {}) {
  const response = await gate.request(`/_gate/oidc/${provider}/login${query}`, { headers });
  if (response.status !== 302) throw new Error(`login answered ${response.status}: ${await response.text()}`);
  return { response, location: new URL(response.headers.get("location") ?? ""), transaction: transactionCookieOf(response) };
}

/** Step 2: the provider's login form and consent, without a browser; returns the redirect back to the gate. */
export async function atProvider(authorizationUrl: URL | string, { user = "alice", jar = createCookieJar() as CookieJar } = {}) {
  const result = await completeLogin(authorizationUrl, { login: user, cookies: jar });
  return { callbackUrl: result.callbackUrl, jar: result.cookies, steps: result.steps };
}

/** Step 3: the browser's redirect back, with `cookies` (the transaction cookie, and a session cookie maybe). */
export function callback(gate: OidcGate, callbackUrl: string, cookies: string[], headers: Record<string, string> = {}) {
  return gate.request(callbackUrl, { headers: { Cookie: cookies.filter(Boolean).join("; "), Accept: "text/html", ...headers } });
}

/** A whole login; returns the callback's answer and what the steps produced. */
export async function logInWithProvider(
  gate: OidcGate,
  options: { provider?: string; user?: string; next?: string; jar?: CookieJar; session?: string; headers?: Record<string, string> } = {},
) {
  const { location, transaction } = await startLogin(gate, {
    provider: options.provider,
    query: `?next=${encodeURIComponent(options.next ?? "/dashboard")}`,
  });
  const { callbackUrl, jar } = await atProvider(location, { user: options.user, jar: options.jar });
  const session = options.session ? `__Host-session=${options.session}` : "";
  const response = await callback(gate, callbackUrl, [transaction, session], options.headers);
  return { response, callbackUrl, transaction, jar };
}

/** POSTs JSON to a harness provider's control endpoint `/__test/<path>`. */
export async function control<T = unknown>(issuer: string, path: string, body: unknown = {}): Promise<T> {
  const response = await fetch(`${issuer}/__test/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`control ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}
