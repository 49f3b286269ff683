import type { Context, Handler } from "hono";
import type { OidcProvider } from "../config/types";
import type { GateEnv } from "../http/context";
import { identityOf } from "./claims";
import { type OidcDeps, clockSkewOf, providerOf, redirectUri } from "./deps";
import { exchangeCode } from "./exchange";
import { failed, refused } from "./failure";
import { verifyIdToken } from "./id-token";
import { recordProviderSession } from "./marks";
import { TRANSACTION_TTL_MS, type Transaction, clearedTransactionCookie, transactionCookieName, transactionCookies } from "./transaction";

/**
 * The transaction of this callback: the cookie its `state` names, sent
 * once, sealed by this gate under that name, for this provider, less than
 * 10 minutes old, with exactly this `state`. Anything else is refused: a
 * callback the browser did not start (login CSRF) never gets further.
 */
async function openTransaction(c: Context<GateEnv>, deps: OidcDeps, provider: OidcProvider, state: string | undefined): Promise<Transaction> {
  if (!state) throw refused("state_missing");
  const name = transactionCookieName(state);
  const values = transactionCookies(c.req.header("cookie")).get(name);
  if (!values) throw refused("transaction_missing");
  if (values.length > 1) throw refused("transaction_invalid", "duplicate");
  const transaction = await deps.seal.open(name, values[0]);
  if (!transaction) throw refused("transaction_invalid");
  const age = deps.now() - transaction.createdAt;
  if (age > TRANSACTION_TTL_MS || age < -TRANSACTION_TTL_MS) throw refused("transaction_expired");
  if (transaction.state !== state) throw refused("state_mismatch");
  if (transaction.provider !== provider.name) throw refused("provider_mismatch");
  return transaction;
}

/** From the callback to a verified identity: the code exchange, the ID token's checks, the claims mapping. */
async function verifiedLogin(c: Context<GateEnv>, deps: OidcDeps, provider: OidcProvider, transaction: Transaction) {
  const discovered = await deps.discovery(provider);
  const input = {
    callbackUrl: new URL(c.req.url),
    transaction,
    redirectUri: redirectUri(deps.config, c, provider),
    clockSkew: clockSkewOf(deps.now),
  };
  const { idToken, claims } = await exchangeCode(provider, discovered, input);
  await verifyIdToken(idToken, provider, discovered, deps.now());
  return { ...identityOf(provider, claims), providerSub: claims.sub };
}

/**
 * `GET /_gate/oidc/<name>/callback` (contract §10): checks the transaction,
 * exchanges the code, verifies the ID token, applies the allow lists, then
 * logs the user in exactly as `X-Gate-Login` does (the presented session
 * ends; a new sid and token), with the provider and its `sid` recorded, and
 * answers 303 to `next`. The transaction cookie is cleared either way. Any
 * failure: `oidc.failed` with the reason, nothing created, 401 (403 for an
 * allow list, 503 for a provider that is down).
 */
export function oidcCallback(deps: OidcDeps): Handler<GateEnv> {
  return async function oidcCallback(c) {
    const provider = providerOf(deps.config, c);
    const state = c.req.query("state");
    const clear = state ? { "Set-Cookie": clearedTransactionCookie(transactionCookieName(state)) } : undefined;
    const fields = { provider: provider.name, step: "callback", request_id: c.get("requestId") };
    try {
      const transaction = await openTransaction(c, deps, provider, state);
      const { identity, droppedRoles, providerSub } = await verifiedLogin(c, deps, provider, transaction);
      await recordProviderSession(deps.store, identity, providerSub, deps.config.session.absoluteTimeout);
      await deps.transitions.login(c, identity);
      deps.log("oidc.login", {
        ...fields,
        sub: identity.sub,
        roles: identity.roles.length,
        dropped_roles: droppedRoles,
        idp_sid: identity.idpSid !== undefined,
      });
      if (clear) c.header("Set-Cookie", clear["Set-Cookie"], { append: true });
      return c.redirect(transaction.next, 303);
    } catch (error) {
      throw failed(error, deps.log, fields, clear);
    }
  };
}
