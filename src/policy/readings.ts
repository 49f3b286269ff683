import { type NormalizedPath, normalizePath } from "./path";

/**
 * The paths an origin may read in the normalised path it receives, besides
 * the gate's own reading (`match`, `;parameters` cut): the whole path
 * (`;parameters` kept, as most frameworks do); `%3B` decoded into a parameter
 * separator and cut (an origin that decodes before it splits); and `%25XX`
 * decoded once more (an origin that decodes twice reads `/%2561dmin` as
 * `/admin`); and each segment's trailing dots and spaces trimmed (Windows
 * and IIS read `/_gate./` and `/_gate%20/` as `/_gate/`). Spring Security's StrictHttpFirewall refuses `%3B` and `%25`
 * outright for these reasons; the gate refuses only when a reading falls
 * under another route than the one it decided on, so an ordinary `%25` passes.
 * `undefined` stands for a reading that cannot be normalised at all (`%252F`
 * decodes to an encoded slash).
 */
export function otherReadings(normalized: Extract<NormalizedPath, { ok: true }>): Array<string | undefined> {
  const { path: pathname, match } = normalized;
  const readings: Array<string | undefined> = pathname === match ? [] : [pathname];
  if (/%3B/i.test(pathname)) readings.push(matchOf(pathname.replace(/%3B/gi, ";")));
  if (/%25[0-9A-Fa-f]{2}/.test(pathname)) readings.push(matchOf(pathname.replace(/%25([0-9A-Fa-f]{2})/g, "%$1")));
  for (const reading of [match, ...readings]) {
    const trimmed = reading === undefined ? undefined : trimSegments(reading);
    if (trimmed !== reading) readings.push(trimmed);
  }
  return readings;
}

/** Each segment without its trailing dots and spaces (`%20`), as Windows and IIS read a path; by hand, in one pass (no backtracking). */
function trimSegments(path: string): string {
  return path
    .split("/")
    .map((segment) => {
      let end = segment.length;
      for (;;) {
        if (segment[end - 1] === ".") end -= 1;
        else if (end >= 3 && segment.slice(end - 3, end) === "%20") end -= 3;
        else return segment.slice(0, end);
      }
    })
    .join("/");
}

function matchOf(pathname: string): string | undefined {
  const normalized = normalizePath(pathname);
  return normalized.ok ? normalized.match : undefined;
}
