import type { SessionRecord } from "../store/types";
import { fingerprintOf } from "./fingerprint";
import { hashToken, newSid, newToken } from "./token";
import type { Client, Identity } from "./types";

/** How a new session lives: its absolute lifetime, its idle timeout (none for bearer sessions), and whether it rotates. */
export interface Lifetime {
  ttl: number;
  idleTimeout: number | null;
  rotates: boolean;
  /** Set for sessions the admin API issues. */
  issuedBy?: "admin";
}

/**
 * A new session for `identity`: a fresh sid and first token (generation 0),
 * its times from `now`, and, for a cookie session, the client's fingerprint
 * for binding. The store never sees the token, only its hash.
 */
export async function newSession(
  identity: Identity,
  client: Client,
  lifetime: Lifetime,
  now: number,
): Promise<{ token: string; session: SessionRecord }> {
  const token = newToken();
  const session: SessionRecord = {
    ...identity,
    sid: newSid(),
    createdAt: now,
    // When the user last proved who they are: the provider's `auth_time` for an OpenID Connect login
    // (a silent SSO login on a day-old provider session is not a fresh login), else now.
    authTime: identity.authTime !== undefined ? Math.min(identity.authTime, now) : now,
    lastSeenAt: now,
    expiresAt: now + lifetime.ttl,
    idleTimeout: lifetime.idleTimeout,
    gen: 0,
    tokenHash: await hashToken(token),
    rotatedAt: now,
    rotates: lifetime.rotates,
    fingerprint: lifetime.rotates ? fingerprintOf(client.userAgent, client.ip) : "",
    userAgent: client.userAgent.slice(0, 256),
    ip: client.ip,
    ...(lifetime.issuedBy && { issuedBy: lifetime.issuedBy }),
  };
  return { token, session };
}
