import type { OidcProvider } from "../config/types";
import type { Identity } from "../session/types";
import type { SessionRecord, SessionStore, Ttl } from "../store/types";
import { sha256 } from "../util/encoding";

/**
 * The store marks of OIDC (docs/oidc.md, "Storage"), each under
 * `oidc:<kind>:<sha256 of [provider, value]>`, so no provider's identifiers
 * are stored in clear and two providers never share a key:
 * - `oidc:sid:…` → the gate's `sub` of the users of a provider session (back-channel logout by `sid`);
 * - `oidc:sub:…` → the gate's `sub` of a provider's subject (by `sub` alone, when `user_claim` is not "sub");
 * - `oidc:jti:…` → "1": a logout token's `jti`, claimed once, kept for the token's lifetime.
 */
export async function markKey(kind: "sid" | "sub" | "jti", provider: string, value: string): Promise<string> {
  return `oidc:${kind}:${await sha256(JSON.stringify([provider, value]))}`;
}

/**
 * Remembers, before the session is created, which gate user a provider
 * session and a provider subject belong to, for as long as a session lives.
 */
export async function recordProviderSession(store: SessionStore, identity: Identity, providerSub: string, ttl: Ttl): Promise<void> {
  const provider = identity.idp as string;
  await Promise.all([
    store.putMark(await markKey("sub", provider, providerSub), identity.sub, ttl),
    identity.idpSid && store.putMark(await markKey("sid", provider, identity.idpSid), identity.sub, ttl),
  ]);
}

/** What a logout token names: a provider session, or a provider subject (all of its sessions from that provider). */
export type LogoutSubject = { sid: string } | { sub: string };

/**
 * The live sessions a logout token ends: with `sid`, the sessions created
 * from that provider session; with `sub` alone, every session of that user
 * from that provider. `X-Gate-Login` sessions and other providers' never match.
 */
export async function sessionsFor(store: SessionStore, provider: OidcProvider, subject: LogoutSubject): Promise<SessionRecord[]> {
  if ("sid" in subject) {
    const user = await store.getMark(await markKey("sid", provider.name, subject.sid));
    if (user === null) return [];
    return (await store.listUser(user)).filter((session) => session.idp === provider.name && session.idpSid === subject.sid);
  }
  const user = (await store.getMark(await markKey("sub", provider.name, subject.sub))) ?? (provider.userClaim === "sub" ? subject.sub : null);
  if (user === null) return [];
  return (await store.listUser(user)).filter((session) => session.idp === provider.name);
}
