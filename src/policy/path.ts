/** A request path made safe to match and to forward. */
export type NormalizedPath =
  /** `path` is forwarded to the origin; `match` is what routes are matched against. */
  | { ok: true; path: string; match: string }
  | { ok: false; reason: string };

/** Encoded slash, backslash and NUL: origins disagree on them, so they are refused (contract §1). */
const FORBIDDEN_ESCAPES = /%(?:2f|5c|00)/i;
/** A `%` not starting an escape: decoding around it could assemble a new one (`%%32%66` → `%2f`). */
const MALFORMED_ESCAPE = /%(?![0-9A-Fa-f]{2})/;
const UNRESERVED = /[A-Za-z0-9\-._~]/;

/**
 * Normalises a URL pathname (already parsed by the WHATWG URL parser, which
 * resolves `.`/`..` and their `%2e` spellings and turns `\` into `/`):
 * refuses encoded `/`, `\` and NUL, and a `%` that starts no escape (as nginx
 * and Go do); decodes escaped unreserved characters
 * (`/%61dmin` is `/admin`) and upper-cases the other escapes; merges repeated
 * slashes (`//admin` is `/admin`); resolves dot segments that decoding
 * revealed. The result is idempotent, so the origin cannot read the path it
 * receives differently from the gate.
 *
 * For matching, each segment's `;parameters` are cut (servlet containers read
 * `/admin;x` as `/admin`, and `/;x/admin` as `/admin`); segments left empty are
 * merged again, and a segment that is `.` or `..` once cut is refused.
 */
export function normalizePath(pathname: string): NormalizedPath {
  if (FORBIDDEN_ESCAPES.test(pathname)) return { ok: false, reason: "encoded_separator" };
  if (MALFORMED_ESCAPE.test(pathname)) return { ok: false, reason: "malformed_escape" };
  if (!pathname.startsWith("/")) return { ok: false, reason: "not_absolute" };
  const decoded = pathname.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
  const segments: string[] = [];
  const parts = decoded.split("/").slice(1);
  parts.forEach((segment, index) => {
    const last = index === parts.length - 1;
    if (segment === "..") segments.pop();
    if (segment === "." || segment === "..") {
      if (last) segments.push("");
      return;
    }
    if (segment === "" && !last) return;
    segments.push(segment);
  });
  const path = "/" + segments.join("/");
  const cut = segments
    .map((segment) => segment.split(";")[0])
    .filter((segment, index, all) => segment !== "" || index === all.length - 1);
  if (cut.some((segment) => segment === "." || segment === "..")) return { ok: false, reason: "dot_segment_parameter" };
  return { ok: true, path, match: "/" + cut.join("/") };
}
