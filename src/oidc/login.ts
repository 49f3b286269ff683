import type { Context, Handler } from "hono";
import type { OidcProvider } from "../config/types";
import { logoutTarget } from "../endpoints/self";
import type { GateEnv } from "../http/context";
import { type OidcDeps, providerOf, redirectUri } from "./deps";
import type { Discovered } from "./discovery";
import { failed } from "./failure";
import { loadOauth } from "./oauth";
import {
  MAX_TRANSACTIONS,
  TRANSACTION_TTL_MS,
  type Transaction,
  clearedTransactionCookie,
  transactionCookie,
  transactionCookieName,
  transactionCookies,
} from "./transaction";

/** Where a login returns when `next` is missing or not a local path. */
const DEFAULT_NEXT = "/";
/** A longer `next` would not fit the cookie beside the rest of the transaction. */
const MAX_NEXT_LENGTH = 1_024;

/**
 * Where the browser goes after the login: `next` when it is a path on this
 * site (the rule of the logout's `next`: one leading "/", not "//" or "/\",
 * visible ASCII), else "/". Never another site: no open redirect.
 */
export function loginNext(next: string | undefined): string {
  return next !== undefined && next.length <= MAX_NEXT_LENGTH ? logoutTarget(next, DEFAULT_NEXT) : DEFAULT_NEXT;
}

/** The authorization request: code flow, PKCE S256, state, nonce and max_age; a fresh login has `prompt=login` and `max_age=0`. */
async function authorizationUrl(c: Context<GateEnv>, deps: OidcDeps, provider: OidcProvider, discovered: Discovered, transaction: Transaction) {
  const oauth = await loadOauth();
  const url = new URL(discovered.as.authorization_endpoint as string);
  const params: Record<string, string> = {
    client_id: provider.clientId,
    redirect_uri: redirectUri(deps.config, c, provider),
    response_type: "code",
    scope: provider.scopes.join(" "),
    state: transaction.state,
    nonce: transaction.nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(transaction.verifier),
    code_challenge_method: "S256",
    // Always a max_age, so the provider must say when it authenticated the user (auth_time, OpenID Connect Core
    // §3.1.2.1) and `fresh` measures that: the session's own lifetime normally, 0 with prompt=login for a fresh login.
    ...(transaction.maxAge !== undefined
      ? { prompt: "login", max_age: String(transaction.maxAge) }
      : { max_age: String(Math.floor(deps.config.session.absoluteTimeout / 1_000)) }),
  };
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url.href;
}

/**
 * The transaction cookies to clear before one more is set: those this gate
 * cannot open or that have expired, and the oldest beyond the cap, so that
 * a browser never holds more than {@link MAX_TRANSACTIONS}.
 */
async function staleTransactions(c: Context<GateEnv>, deps: OidcDeps): Promise<string[]> {
  const opened = await Promise.all(
    [...transactionCookies(c.req.header("cookie"))].map(async ([name, [value]]) => ({ name, transaction: await deps.seal.open(name, value) })),
  );
  const live = opened.filter(({ transaction }) => transaction && deps.now() - transaction.createdAt < TRANSACTION_TTL_MS);
  live.sort((a, b) => (a.transaction?.createdAt ?? 0) - (b.transaction?.createdAt ?? 0));
  const dropped = live.slice(0, Math.max(0, live.length - (MAX_TRANSACTIONS - 1)));
  return opened.filter((entry) => !live.includes(entry) || dropped.includes(entry)).map(({ name }) => name);
}

/**
 * `GET /_gate/oidc/<name>/login?next=<path>[&reauth=1]` (contract §10): a new
 * transaction, sealed into its own cookie, and 302 to the provider's
 * authorization endpoint. Discovery failing is the provider's outage: 503.
 */
export function oidcLogin(deps: OidcDeps): Handler<GateEnv> {
  return async function oidcLogin(c) {
    const provider = providerOf(deps.config, c);
    let discovered: Discovered;
    try {
      discovered = await deps.discovery(provider);
    } catch (error) {
      throw failed(error, deps.log, { provider: provider.name, step: "login", request_id: c.get("requestId") });
    }
    const oauth = await loadOauth();
    const transaction: Transaction = {
      provider: provider.name,
      state: oauth.generateRandomState(),
      verifier: oauth.generateRandomCodeVerifier(),
      nonce: oauth.generateRandomNonce(),
      next: loginNext(c.req.query("next")),
      createdAt: deps.now(),
      ...(c.req.query("reauth") === "1" && { maxAge: 0 }),
    };
    const location = await authorizationUrl(c, deps, provider, discovered, transaction);
    for (const stale of await staleTransactions(c, deps)) c.header("Set-Cookie", clearedTransactionCookie(stale), { append: true });
    const name = transactionCookieName(transaction.state);
    c.header("Set-Cookie", transactionCookie(name, await deps.seal.seal(name, transaction)), { append: true });
    c.header("Cache-Control", "no-store");
    return c.redirect(location, 302);
  };
}
