import { parseAddress } from "../http/address";

/**
 * How much of a User-Agent is read. Browsers send 100–300 characters; the
 * family and version sit near the front. Reading a bounded prefix keeps every
 * expression below linear in what it is given, whatever a client sends (the
 * header may be 16 KiB), and is what makes the fingerprint safe to compute on
 * every cookie request.
 */
export const MAX_USER_AGENT_READ = 512;

/**
 * Browser families, most specific first (Edge and Opera also say "Chrome").
 * Each version is 1–4 digits and must end there, so no quantifier is unbounded
 * and an absurd version never becomes a fingerprint.
 */
const FAMILIES: ReadonlyArray<[string, RegExp]> = [
  ["edge", /\bEdg(?:e|A|iOS)?\/(\d{1,4})(?!\d)/],
  ["opera", /\bOPR\/(\d{1,4})(?!\d)/],
  ["samsung", /\bSamsungBrowser\/(\d{1,4})(?!\d)/],
  ["chrome", /\b(?:Chrome|CriOS)\/(\d{1,4})(?!\d)/],
  ["firefox", /\b(?:Firefox|FxiOS)\/(\d{1,4})(?!\d)/],
  ["safari", /\bVersion\/(\d{1,4})(?:\.\d{1,6}){0,3}(?: Mobile\/[^\s/]{1,32})? Safari\//],
];
const PRODUCT = /^([A-Za-z][\w.-]{0,31})\/(\d{1,4})(?!\d)/;

/** Browser family and major version: a minor update does not change it. At most 37 characters. */
export function browserOf(userAgent: string): string {
  const read = userAgent.slice(0, MAX_USER_AGENT_READ);
  for (const [family, pattern] of FAMILIES) {
    const match = pattern.exec(read);
    if (match) return `${family}/${match[1]}`;
  }
  const product = PRODUCT.exec(read);
  return product ? `${product[1].toLowerCase()}/${product[2]}` : "other";
}

/**
 * The IP's network: /24 for IPv4 (`203.0.113`), /48 for IPv6 (its first three
 * groups), so a new address from the same network still matches. The written
 * form is what sessions already store; it must not change.
 */
export function networkOf(ip: string): string {
  const address = parseAddress(ip);
  if (!address) return "unknown";
  if (address.v === 4) return address.bytes.slice(0, 3).join(".");
  return address.groups
    .slice(0, 3)
    .map((group) => group.toString(16))
    .join(":");
}

/** The coarse fingerprint a session is bound to (contract §2). */
export function fingerprintOf(userAgent: string, ip: string): string {
  return `${browserOf(userAgent)}|${networkOf(ip)}`;
}
