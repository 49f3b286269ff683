import { type Problems, readStrings, show } from "../problems";

/**
 * The checks of single values that the schema's nodes call: each returns the
 * value read, or reports what was expected (the messages users see in the log
 * and from check-config) and returns the fallback.
 */

/** An http(s) URL, or undefined. */
export function parseHttpUrl(value: unknown): URL | undefined {
  if (typeof value !== "string" || !URL.canParse(value)) return undefined;
  const url = new URL(value);
  return url.protocol === "https:" || url.protocol === "http:" ? url : undefined;
}

/** A path on the gate's own host: one leading `/`, not `//` or `/\`, visible ASCII without `?` or `#`. */
const LOCAL_PATH = /^\/(?![/\\])[\x21-\x22\x24-\x3e\x40-\x7e]*$/;

/** A path on this host (login_path, error_page), or the fallback. */
export const localPath =
  (fallback: string | undefined) =>
  (problems: Problems, key: string, value: unknown): string | undefined => {
    if (value === undefined) return fallback;
    if (typeof value === "string" && LOCAL_PATH.test(value)) return value;
    problems.add(key, `expected a path on this host such as "${fallback ?? "/error"}", got ${show(value)}`);
    return fallback;
  };

/** An origin exactly as browsers serialise it (`https://app.example.com`). */
export function origin(problems: Problems, key: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const url = parseHttpUrl(value);
  if (url && url.origin === value) return value;
  problems.add(key, `expected an origin such as "https://app.example.com" (scheme and host, no path or trailing slash), got ${show(value)}`);
  return undefined;
}

/** A list of origins as browsers send them in `Origin`. */
export function origins(problems: Problems, key: string, value: unknown): Set<string> {
  const list = readStrings(problems, key, value) ?? [];
  for (const item of list) {
    const url = parseHttpUrl(item);
    if (!url || url.origin !== item)
      problems.add(key, `expected origins written exactly as browsers send them, such as "https://app.example.com", got ${show(item)}`);
  }
  return new Set(list);
}

/** The assertion's `iss`: an http(s) URL, or `""`/absent for the gate's own origin. */
export function issuer(problems: Problems, key: string, value: unknown): string | undefined {
  if (value === undefined || value === "") return undefined;
  if (typeof value === "string" && parseHttpUrl(value)) return value;
  problems.add(key, `expected an http(s) URL, or "" for the gate's own origin, got ${show(value)}`);
  return undefined;
}

const COOKIE_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** A cookie name (an HTTP token). */
export function cookieName(problems: Problems, key: string, value: unknown): string {
  if (value === undefined) return "__Host-session";
  if (typeof value === "string" && COOKIE_NAME.test(value)) return value;
  problems.add(key, `expected a cookie name (letters, digits and !#$%&'*+.^_\`|~-), got ${show(value)}`);
  return "__Host-session";
}

/** A URLPattern pathname as written, and compiled to match case-insensitively. */
export function urlPattern(problems: Problems, key: string, value: unknown): { written: string; pattern: URLPattern } | undefined {
  if (typeof value !== "string" || !value.startsWith("/")) {
    problems.add(key, `expected a URLPattern pathname starting with "/" such as "/api/*", got ${show(value)}`);
    return undefined;
  }
  try {
    return { written: value, pattern: new URLPattern({ pathname: value }, { ignoreCase: true }) };
  } catch {
    problems.add(key, `is not a valid URLPattern pathname: ${show(value)}`);
    return undefined;
  }
}

const METHOD = /^[A-Z]+$/;

/** A route's methods: upper-case names, and not an empty list (the route could never match). */
export function methods(problems: Problems, key: string, value: unknown): string[] | undefined {
  const list = readStrings(problems, key, value);
  if (list?.length === 0) problems.add(key, "is empty: the route could never match (leave it out to match every method)");
  for (const method of list ?? []) if (!METHOD.test(method)) problems.add(key, `expected upper-case HTTP methods such as "GET", got ${show(method)}`);
  return list;
}

/** A route's roles: not an empty list (nobody could pass). */
export function roles(problems: Problems, key: string, value: unknown): string[] | undefined {
  const list = readStrings(problems, key, value);
  if (list?.length === 0) problems.add(key, "is empty: nobody could pass (leave it out to admit any session)");
  return list;
}

/** A non-empty text, or undefined when absent. */
export function nonEmpty(problems: Problems, key: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string" && value.length > 0) return value;
  problems.add(key, `expected a non-empty string, got ${show(value)}`);
  return undefined;
}

/** A non-empty text that must be there. */
export function requiredText(problems: Problems, key: string, value: unknown): string | undefined {
  if (typeof value === "string" && value.length > 0) return value;
  problems.add(key, `expected a non-empty string, got ${show(value)}`);
  return undefined;
}

/** A whole number of at least 1 (a limiter's `limit`), required. */
export function positiveCount(problems: Problems, key: string, value: unknown): number {
  if (typeof value === "number" && Number.isInteger(value) && value >= 1) return value;
  problems.add(key, `expected a whole number of at least 1, got ${show(value)}`);
  return 1;
}

/**
 * An identity provider's issuer: https, or http on localhost/127.0.0.1 only
 * (contract §15: a local test provider), without query or fragment.
 */
export function issuerUrl(problems: Problems, key: string, value: unknown): string | undefined {
  const url = parseHttpUrl(value);
  const local = url && (url.hostname === "localhost" || url.hostname === "127.0.0.1");
  if (url && (url.protocol === "https:" || local) && !url.search && !url.hash) return String(value);
  problems.add(
    key,
    `expected the provider's https issuer URL (http only on localhost or 127.0.0.1), such as "https://login.example.com", got ${show(value)}`,
  );
  return undefined;
}
