/** A request path made safe to match and to forward. */
export type NormalizedPath =
  /** `path` is forwarded to the origin; `match` is what routes are matched against. */
  { ok: true; path: string; match: string } | { ok: false; reason: string };

/** Encoded slash, backslash and NUL: origins disagree on them, so they are refused (contract §1). */
const FORBIDDEN_ESCAPES = /%(?:2f|5c|00)/i;
/** A `%` not starting an escape: decoding around it could assemble a new one (`%%32%66` → `%2f`). */
const MALFORMED_ESCAPE = /%(?![0-9A-Fa-f]{2})/;
const UNRESERVED = /[A-Za-z0-9\-._~]/;
/** A run of escaped bytes ≥ 0x80: the UTF-8 of non-ASCII characters. */
const ESCAPED_NON_ASCII = /(?:%[89A-Fa-f][0-9A-Fa-f])+/g;
/** Any ASCII character; by code point, so it needs no control character in the pattern. */
const hasAscii = (text: string) => [...text].some((char) => char.charCodeAt(0) < 0x80);

/**
 * True when an escaped non-ASCII character becomes ASCII under case mapping or
 * compatibility normalisation (NFKC): dotless ı upper-cases to I, the Kelvin
 * sign K lower-cases to k, long ſ to S, ß to SS, fullwidth ａ and ／ normalise
 * to a and /. An origin that folds or normalises the Unicode way reads
 * `/adm%C4%B1n` as /admin, a path the gate's ASCII-only matching never saw.
 */
function foldsToAscii(pathname: string): boolean {
  for (const run of pathname.match(ESCAPED_NON_ASCII) ?? []) {
    let text: string;
    try {
      text = decodeURIComponent(run);
    } catch {
      continue; // not UTF-8: opaque bytes no origin can fold into letters
    }
    for (const char of text) {
      if (char > "\u007f" && hasAscii(char.toUpperCase() + char.toLowerCase() + char.normalize("NFKC"))) return true;
    }
  }
  return false;
}

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
 * An escaped non-ASCII letter that folds to ASCII is refused too (contract §14).
 * `encodedSeparators` lets `%2F` and `%5C` through, kept escaped, for the
 * gate's own paths that carry a user name (src/http/prepare.ts).
 */
export function normalizePath(pathname: string, options: { encodedSeparators?: boolean } = {}): NormalizedPath {
  const forbidden = options.encodedSeparators ? /%00/ : FORBIDDEN_ESCAPES;
  if (forbidden.test(pathname)) return { ok: false, reason: "encoded_separator" };
  if (MALFORMED_ESCAPE.test(pathname)) return { ok: false, reason: "malformed_escape" };
  if (foldsToAscii(pathname)) return { ok: false, reason: "folding_escape" };
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
  const path = `/${segments.join("/")}`;
  const cut = segments.map((segment) => segment.split(";")[0]).filter((segment, index, all) => segment !== "" || index === all.length - 1);
  if (cut.some((segment) => segment === "." || segment === "..")) return { ok: false, reason: "dot_segment_parameter" };
  return { ok: true, path, match: `/${cut.join("/")}` };
}
