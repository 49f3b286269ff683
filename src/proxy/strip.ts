import { SPOOFABLE_HEADERS, SPOOFABLE_PREFIXES } from "./spoofable";

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

const EXACT = new Set(SPOOFABLE_HEADERS);
/** The prefixes as one expression: one test per header instead of one `startsWith` per prefix. */
const PREFIXED = new RegExp(`^(?:${SPOOFABLE_PREFIXES.join("|")})`); // the prefixes are [a-z-] only: nothing to escape

/**
 * A header name as origins may read it: lower case, and `_` read as `-`
 * (CGI, PHP, Rails and nginx's underscores_in_headers all fold the two), so
 * `x_gate_user` and `X-GATE-USER` are both `x-gate-user`.
 */
export function canonicalHeaderName(name: string): string {
  const lower = name.toLowerCase();
  return lower.includes("_") ? lower.replace(/_/g, "-") : lower;
}

/** True for a header the client must never be able to send to the origin under the gate's name. */
export function isGateHeader(name: string): boolean {
  return canonicalHeaderName(name).startsWith("x-gate-");
}

/** True for a header some proxy or framework reads as the original URL, method, address or host (src/proxy/spoofable.ts). */
export function isSpoofable(canonical: string): boolean {
  return EXACT.has(canonical) || PREFIXED.test(canonical);
}

/**
 * Removes, in place, every header the client may not pass to the origin
 * (contract §4, §14): `x-gate-*` in any spelling, the spoofable headers of
 * src/proxy/spoofable.ts, hop-by-hop headers and every header `Connection`
 * names. The gate sets its own forwarding headers afterwards, so a name in
 * `Connection` can only remove what the client sent.
 */
export function stripInbound(headers: Headers): void {
  const named = new Set(
    (headers.get("connection") ?? "")
      .split(",")
      .map((token) => canonicalHeaderName(token.trim()))
      .filter(Boolean),
  );
  const doomed: string[] = [];
  for (const name of headers.keys()) {
    const canonical = canonicalHeaderName(name);
    if (isSpoofable(canonical) || HOP_BY_HOP.has(canonical) || named.has(canonical)) doomed.push(name);
  }
  for (const name of doomed) headers.delete(name);
}
