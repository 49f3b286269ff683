import type { SessionRecord } from "../store/types";
import { stripInbound } from "./strip";
import { withoutSessionCookie } from "../session/cookie";
import { readAuthorization } from "../session/token";

/** What the gate knows about the request it forwards. */
export interface UpstreamParts {
  request: Request;
  /** The normalised path that was matched; the origin receives exactly this. */
  path: string;
  clientIp: string;
  cookieName: string;
  session?: SessionRecord;
  /** `X-Gate-Assertion`, signed for this request; set together with the session's headers. */
  assertion?: string;
  requestId: string;
}

/** The URL at the origin: its base (with any path prefix), the normalised path, the query. */
export function upstreamUrl(base: URL, path: string, search: string): string {
  const prefix = base.pathname.replace(/\/+$/, "");
  return `${base.origin}${prefix}${path}${search}`;
}

/**
 * Builds the request for the origin: hostile and hop-by-hop headers removed,
 * the session cookie and any gate bearer token removed, then the identity
 * headers set from the session, so nothing the client sent can pose as them.
 * The body streams through untouched; redirects are the client's to follow.
 */
export function upstreamRequest(target: string, forward: UpstreamParts): Request {
  const { request, session } = forward;
  const incoming = new URL(request.url);
  const headers = new Headers(request.headers);
  stripInbound(headers);
  const cookie = headers.get("cookie");
  if (cookie !== null) {
    const rest = withoutSessionCookie(cookie, forward.cookieName);
    if (rest) headers.set("cookie", rest);
    else headers.delete("cookie");
  }
  if (readAuthorization(headers.get("authorization")).carriesGateToken) headers.delete("authorization");
  if (session) {
    headers.set("X-Gate-User", session.sub);
    headers.set("X-Gate-Session", session.sid);
    headers.set("X-Gate-Roles", session.roles.join(","));
    headers.set("X-Gate-Auth-Time", String(Math.floor(session.authTime / 1_000)));
    if (forward.assertion) headers.set("X-Gate-Assertion", forward.assertion);
  }
  headers.set("X-Request-Id", forward.requestId);
  headers.set("X-Forwarded-For", forward.clientIp);
  headers.set("X-Forwarded-Proto", incoming.protocol.slice(0, -1));
  headers.set("X-Forwarded-Host", incoming.host);
  const hasBody = request.method !== "GET" && request.method !== "HEAD";
  return new Request(target, {
    method: request.method,
    headers,
    body: hasBody ? request.body : null,
    redirect: "manual",
  });
}
