import type { SessionRecord } from "../store/types";

const seconds = (ms: number) => Math.floor(ms / 1_000);

/** `GET /_gate/session`: who the session belongs to and when it ends, in Unix seconds. */
export function sessionView(session: SessionRecord) {
  return {
    sub: session.sub,
    sid: session.sid,
    roles: session.roles,
    auth_time: seconds(session.authTime),
    expires_at: seconds(session.expiresAt),
    idle_expires_at: session.idleTimeout === null ? null : seconds(Math.min(session.expiresAt, session.lastSeenAt + session.idleTimeout)),
    // The identity provider's name, for a session it logged in (contract §10); absent for X-Gate-Login sessions.
    ...(session.idp !== undefined && { idp: session.idp }),
  };
}

/** One entry of a session list; `current` marks the session that asked. */
export function listedView(session: SessionRecord, currentSid?: string) {
  return {
    sid: session.sid,
    created_at: seconds(session.createdAt),
    last_seen_at: seconds(session.lastSeenAt),
    user_agent: session.userAgent,
    ip: session.ip,
    issued_by: session.issuedBy ?? "login",
    device_bound: session.device !== undefined,
    current: session.sid === currentSid,
  };
}
