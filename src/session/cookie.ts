/** What the Cookie header says about the session cookie. */
export type CookieRead =
  | { kind: "absent" }
  | { kind: "one"; value: string }
  /** The session cookie appears more than once: the request is unauthenticated. */
  | { kind: "duplicate" };

/**
 * Finds the session cookie in the raw Cookie header (RFC 6265 §5.4 pairs joined
 * by ";"). Strict on purpose: the name must match exactly (`__HOST-session` is
 * another cookie), the value is taken as sent (no URL-decoding, no quote
 * stripping), and a second occurrence makes the request unauthenticated, so an
 * attacker who can plant a cookie cannot shadow the real one.
 */
export function readSessionCookie(header: string | null, name: string): CookieRead {
  if (!header) return { kind: "absent" };
  let found: string | undefined;
  for (const pair of header.split(";")) {
    const eq = pair.indexOf("=");
    if (eq < 0 || trimOws(pair.slice(0, eq)) !== name) continue;
    if (found !== undefined) return { kind: "duplicate" };
    found = trimOws(pair.slice(eq + 1));
  }
  return found === undefined ? { kind: "absent" } : { kind: "one", value: found };
}

/**
 * Trims optional whitespace as HTTP defines it, space and tab only (RFC 9110
 * §5.6.3). `String.prototype.trim` also strips NBSP, BOM and other Unicode
 * spaces, which would let `\u00a0__Host-session`, a cookie any sibling
 * subdomain can plant, pass for the host-only session cookie.
 */
function trimOws(text: string): string {
  return text.replace(/^[ \t]+|[ \t]+$/g, "");
}

/**
 * The Cookie header without the session cookie; other cookies pass to the origin
 * untouched. Removal is more liberal than {@link readSessionCookie}: a client
 * that sends two Cookie fields gets them joined with ", " (Fetch's combining
 * rule), so a session cookie after a comma is removed too and its token never
 * reaches the origin, and a look-alike name padded with Unicode spaces is
 * removed too (it is not the session cookie, but it may carry a token).
 * Other values keep their commas.
 */
export function withoutSessionCookie(header: string, name: string): string {
  const isSession = (part: string) => {
    const eq = part.indexOf("=");
    return (eq < 0 ? part : part.slice(0, eq)).trim() === name;
  };
  return header
    .split(";")
    .map((pair) =>
      pair
        .split(",")
        .filter((part) => !isSession(part))
        .join(",")
        .trim(),
    )
    .filter((pair) => pair.length > 0)
    .join("; ");
}

/** Options of the session cookie. */
export interface CookieOptions {
  name: string;
  sameSite: "Lax" | "Strict";
}

/**
 * The Set-Cookie value for a token: host-only, Secure, HttpOnly, never outliving
 * the session's absolute timeout (`maxAge` in seconds).
 */
export function sessionCookie(options: CookieOptions, token: string, maxAge: number): string {
  return `${options.name}=${token}; Path=/; Max-Age=${Math.max(0, Math.floor(maxAge))}; Secure; HttpOnly; SameSite=${options.sameSite}`;
}

/** The Set-Cookie value that removes the session cookie. */
export function clearedCookie(options: CookieOptions): string {
  return `${options.name}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=${options.sameSite}`;
}
