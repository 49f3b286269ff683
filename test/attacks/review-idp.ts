// A scripted OpenID Provider for the review attacks (test/attacks/review-oidc.test.ts):
// discovery, JWKS and token endpoint answered inside workerd by intercepting
// `fetch` for its issuer, so a test decides exactly what the provider signs
// (an ID token's auth_time, email, sub; a logout token) as a malicious,
// compromised or merely unusual provider would. Every other fetch goes out unchanged.
import { SignJWT, exportJWK, generateKeyPair } from "jose";
import { vi } from "vitest";
import type { createTestGate } from "../helpers/gate";

type Gate = Awaited<ReturnType<typeof createTestGate>>;

/** What the provider puts in the next ID token, besides iss, aud, iat, exp and the nonce. */
export type IdClaims = Record<string, unknown>;

export interface ScriptedIdp {
  issuer: string;
  clientId: string;
  /** Signs a JWT with the provider's published key. */
  sign(payload: Record<string, unknown>, typ?: string): Promise<string>;
  /** How many token requests it answered. */
  tokenRequests(): number;
  /** Registers what the authorization endpoint would issue for `authorizeUrl`; returns the callback query. */
  authorize(authorizeUrl: URL, claims: IdClaims): string;
  /** The fetch handler for this issuer's URLs. */
  handle(request: Request): Promise<Response>;
}

const now = () => Math.floor(Date.now() / 1_000);

/** A provider at `issuer` (an https URL nobody serves), client `gate-review`. */
export async function scriptedIdp(issuer: string): Promise<ScriptedIdp> {
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  const kid = `review-${crypto.randomUUID()}`;
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
  const clientId = "gate-review";
  const grants = new Map<string, { nonce: string; claims: IdClaims }>();
  let tokens = 0;
  const sign = (payload: Record<string, unknown>, typ = "JWT") =>
    new SignJWT(payload).setProtectedHeader({ alg: "RS256", kid, typ }).sign(privateKey);
  return {
    issuer,
    clientId,
    sign,
    tokenRequests: () => tokens,
    authorize(authorizeUrl, claims) {
      const code = crypto.randomUUID();
      grants.set(code, { nonce: authorizeUrl.searchParams.get("nonce") ?? "", claims });
      return `?code=${code}&state=${authorizeUrl.searchParams.get("state")}`;
    },
    async handle(request) {
      const { pathname } = new URL(request.url);
      if (pathname === "/.well-known/openid-configuration") {
        return Response.json({
          issuer,
          authorization_endpoint: `${issuer}/authorize`,
          token_endpoint: `${issuer}/token`,
          jwks_uri: `${issuer}/jwks`,
          response_types_supported: ["code"],
          subject_types_supported: ["public"],
          id_token_signing_alg_values_supported: ["RS256"],
        });
      }
      if (pathname === "/jwks") return Response.json({ keys: [jwk] });
      if (pathname === "/token") {
        tokens += 1;
        const form = new URLSearchParams(new TextDecoder().decode(await request.arrayBuffer()));
        const grant = grants.get(form.get("code") ?? "");
        if (!grant) return Response.json({ error: "invalid_grant" }, { status: 400 });
        const iat = now();
        const id_token = await sign({ iss: issuer, aud: clientId, iat, exp: iat + 300, nonce: grant.nonce, ...grant.claims });
        return Response.json({ access_token: "review-access-token", token_type: "Bearer", expires_in: 300, id_token });
      }
      return new Response("not found", { status: 404 });
    },
  };
}

/** Answers fetches to the providers' issuers from their handlers; the spy is restored by vi.restoreAllMocks(). */
export function interceptProviders(...providers: ScriptedIdp[]): void {
  const original = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const provider = providers.find((p) => request.url.startsWith(`${p.issuer}/`));
    return provider ? provider.handle(request) : original(input, init);
  });
}

/** The GATE.oidc entry of a scripted provider (a public client). */
export const providerEntry = (idp: ScriptedIdp, extra: Record<string, unknown> = {}) => ({ issuer: idp.issuer, client_id: idp.clientId, ...extra });

/** A whole login at provider `name` with the ID token claims `claims`; returns the callback's answer. */
export async function scriptedLogin(
  gate: Gate,
  name: string,
  idp: ScriptedIdp,
  claims: IdClaims,
  options: { next?: string; cookies?: string[] } = {},
) {
  const start = await gate.request(`/_gate/oidc/${name}/login?next=${encodeURIComponent(options.next ?? "/dashboard")}`);
  if (start.status !== 302) throw new Error(`login answered ${start.status}: ${await start.text()}`);
  const transaction = start.headers.getSetCookie().find((line) => line.startsWith("__Host-gate-oidc-") && !line.includes("Max-Age=0"));
  if (!transaction) throw new Error("no transaction cookie");
  const query = idp.authorize(new URL(start.headers.get("location") ?? ""), claims);
  const cookies = [transaction.split(";")[0], ...(options.cookies ?? [])].join("; ");
  return gate.request(`/_gate/oidc/${name}/callback${query}`, { headers: { Cookie: cookies, Accept: "application/json" } });
}
