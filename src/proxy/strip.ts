/** Hop-by-hop headers (RFC 9110 §7.6.1), never forwarded by a proxy. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** Client-supplied forwarding headers: the gate sets its own from the connection. */
const FORWARDING = new Set(["forwarded", "x-real-ip", "x-request-id"]);

/**
 * A header name as origins may read it: lower case, and `_` read as `-`
 * (CGI, PHP, Rails and nginx's underscores_in_headers all fold the two), so
 * `x_gate_user` and `X-GATE-USER` are both `x-gate-user`.
 */
export function canonicalHeaderName(name: string): string {
  return name.toLowerCase().replace(/_/g, "-");
}

/** True for a header the client must never be able to send to the origin under the gate's name. */
export function isGateHeader(name: string): boolean {
  return canonicalHeaderName(name).startsWith("x-gate-");
}

/**
 * Removes, in place, every header the client may not pass to the origin
 * (contract §4): `x-gate-*` in any spelling, `Forwarded`, `X-Forwarded-*`,
 * `X-Real-IP`, hop-by-hop headers and every header `Connection` names.
 */
export function stripInbound(headers: Headers): void {
  const named = (headers.get("connection") ?? "")
    .split(",")
    .map((token) => canonicalHeaderName(token.trim()))
    .filter(Boolean);
  const doomed = new Set<string>();
  headers.forEach((_, name) => {
    const canonical = canonicalHeaderName(name);
    if (
      canonical.startsWith("x-gate-") ||
      canonical.startsWith("x-forwarded-") ||
      FORWARDING.has(canonical) ||
      HOP_BY_HOP.has(canonical) ||
      named.includes(canonical)
    ) {
      doomed.add(name);
    }
  });
  for (const name of doomed) headers.delete(name);
}
