/**
 * A small cookie jar with the parts of RFC 6265bis a DBSC client needs:
 * Set-Cookie parsing (§5.6), storage with expiry from Max-Age/Expires on an
 * injected clock (§5.7), the Cookie header for a URL (§5.8.3), and the
 * attribute comparison DBSC's "Identify if missing session credential" uses.
 * Every request is treated as same-site, so SameSite never filters; public
 * suffixes are not consulted.
 */

/** A cookie's attributes as they matter for matching (RFC 6265bis §5.6 with its defaults applied). */
export interface CookieAttributes {
  /** The host it is sent to; with `hostOnly` false, also its subdomains. */
  domain: string;
  hostOnly: boolean;
  path: string;
  secure: boolean;
  httpOnly: boolean;
  /** As written; "Default" when absent or unrecognised. */
  sameSite: "Strict" | "Lax" | "None" | "Default";
  partitioned: boolean;
  /** Max-Age in seconds, if given (it wins over Expires). */
  maxAge?: number;
  /** Expires as epoch milliseconds, if given and parseable. */
  expires?: number;
}

/** A stored cookie. */
export interface StoredCookie extends CookieAttributes {
  name: string;
  value: string;
  /** Epoch milliseconds after which it is gone; undefined for a session cookie. */
  expiresAt?: number;
  createdAt: number;
}

/** A secure origin in the sense DBSC and cookies use: https, or a loopback host. */
export const isSecureUrl = (url: URL) =>
  url.protocol === "https:" || url.hostname === "localhost" || url.hostname === "127.0.0.1" || url.hostname === "[::1]";

/** The default-path of a URL (§5.1.4). */
export function defaultPath(url: URL): string {
  const p = url.pathname;
  if (!p.startsWith("/") || p.lastIndexOf("/") === 0) return "/";
  return p.slice(0, p.lastIndexOf("/"));
}

/** §5.1.3 domain-match (without the IP-address exclusion subtleties). */
export const domainMatch = (host: string, domain: string) => host === domain || host.endsWith(`.${domain}`);

/** §5.1.4 path-match. */
export function pathMatch(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith("/") || requestPath[cookiePath.length] === "/";
}

/** Parses cookie attributes (the part of a Set-Cookie after the first ";"), defaulting Domain and Path from `url`. */
export function parseAttributes(text: string, url: URL): CookieAttributes {
  const a: CookieAttributes = {
    domain: url.hostname,
    hostOnly: true,
    path: defaultPath(url),
    secure: false,
    httpOnly: false,
    sameSite: "Default",
    partitioned: false,
  };
  for (const raw of text.split(";")) {
    const eq = raw.indexOf("=");
    const name = (eq < 0 ? raw : raw.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? "" : raw.slice(eq + 1).trim();
    if (name === "domain" && value) {
      a.domain = value.replace(/^\./, "").toLowerCase();
      a.hostOnly = false;
    } else if (name === "path") a.path = value.startsWith("/") ? value : defaultPath(url);
    else if (name === "secure") a.secure = true;
    else if (name === "httponly") a.httpOnly = true;
    else if (name === "partitioned") a.partitioned = true;
    else if (name === "samesite") {
      const v = value.toLowerCase();
      a.sameSite = v === "strict" ? "Strict" : v === "lax" ? "Lax" : v === "none" ? "None" : "Default";
    } else if (name === "max-age" && /^-?[0-9]+$/.test(value)) a.maxAge = Number(value);
    else if (name === "expires") {
      const t = Date.parse(value);
      if (!Number.isNaN(t)) a.expires = t;
    }
  }
  return a;
}

/** Whether a response from `url` may set a cookie with these attributes under `name` (§5.7 steps that apply here). */
export function canSet(name: string, a: CookieAttributes, url: URL): boolean {
  if (!a.hostOnly && !domainMatch(url.hostname, a.domain)) return false;
  if (a.secure && !isSecureUrl(url)) return false;
  if (name.startsWith("__Secure-") && !a.secure) return false;
  if (name.startsWith("__Host-") && (!a.secure || !a.hostOnly || a.path !== "/")) return false;
  return true;
}

/** Whether a cookie with these attributes would be attached to a request for `url` (§5.8.3, same-site assumed). */
export function wouldAttach(a: Pick<CookieAttributes, "domain" | "hostOnly" | "path" | "secure">, url: URL): boolean {
  const hostOk = a.hostOnly ? url.hostname === a.domain : domainMatch(url.hostname, a.domain);
  return hostOk && pathMatch(url.pathname, a.path) && (!a.secure || isSecureUrl(url));
}

/** The attributes DBSC compares between a request's cookie and a session credential: Domain, Path, Secure, HttpOnly, SameSite. */
export const sameBinding = (a: CookieAttributes, b: CookieAttributes) =>
  a.domain === b.domain &&
  a.hostOnly === b.hostOnly &&
  a.path === b.path &&
  a.secure === b.secure &&
  a.httpOnly === b.httpOnly &&
  a.sameSite === b.sameSite;

/** A cookie jar on an injected clock. */
export class CookieJar {
  private cookies: StoredCookie[] = [];
  constructor(private readonly now: () => number) {}

  /** Applies one Set-Cookie line received from `url`; returns whether it was stored or deleted an old one. */
  setCookie(line: string, url: URL): boolean {
    const semi = line.indexOf(";");
    const pair = semi < 0 ? line : line.slice(0, semi);
    const eq = pair.indexOf("=");
    const name = eq < 0 ? "" : pair.slice(0, eq).trim();
    const value = (eq < 0 ? pair : pair.slice(eq + 1)).trim();
    if (!name && !value) return false;
    const attrs = parseAttributes(semi < 0 ? "" : line.slice(semi + 1), url);
    if (!canSet(name, attrs, url)) return false;
    const now = this.now();
    const expiresAt = attrs.maxAge !== undefined ? now + attrs.maxAge * 1000 : attrs.expires;
    const same = (c: StoredCookie) => c.name === name && c.domain === attrs.domain && c.hostOnly === attrs.hostOnly && c.path === attrs.path;
    const old = this.cookies.find(same);
    this.cookies = this.cookies.filter((c) => !same(c));
    if (expiresAt !== undefined && expiresAt <= now) return true;
    this.cookies.push({ ...attrs, name, value, expiresAt, createdAt: old?.createdAt ?? now });
    return true;
  }

  /** Applies every Set-Cookie of a response from `url`. */
  store(headers: Headers, url: URL): void {
    for (const line of headers.getSetCookie()) this.setCookie(line, url);
  }

  /** The cookies alive now that a request to `url` carries, longest path first (§5.8.3 step 2). */
  forUrl(url: URL): StoredCookie[] {
    const now = this.now();
    this.cookies = this.cookies.filter((c) => c.expiresAt === undefined || c.expiresAt > now);
    return this.cookies.filter((c) => wouldAttach(c, url)).sort((x, y) => y.path.length - x.path.length || x.createdAt - y.createdAt);
  }

  /** The Cookie header value for `url`, or undefined when no cookie applies. */
  header(url: URL): string | undefined {
    const list = this.forUrl(url);
    return list.length ? list.map((c) => (c.name ? `${c.name}=${c.value}` : c.value)).join("; ") : undefined;
  }

  /** Every live cookie named `name` (any domain or path). */
  get(name: string): StoredCookie[] {
    const now = this.now();
    return this.cookies.filter((c) => c.name === name && (c.expiresAt === undefined || c.expiresAt > now));
  }

  /** Puts a cookie in directly (a test planting a stolen or forged cookie); no §5.7 checks. */
  put(cookie: Omit<StoredCookie, "createdAt"> & { createdAt?: number }): void {
    this.cookies = this.cookies.filter((c) => !(c.name === cookie.name && c.domain === cookie.domain && c.path === cookie.path));
    this.cookies.push({ createdAt: this.now(), ...cookie });
  }

  /** Removes every cookie named `name`. */
  delete(name: string): void {
    this.cookies = this.cookies.filter((c) => c.name !== name);
  }
}
