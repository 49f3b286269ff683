import type { HeaderRule } from "./types";
import { type Problems, isTable, show } from "./problems";

/** The contract's default security headers (§5); stronger than Hono's `secureHeaders` defaults. */
export const DEFAULT_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "strict-origin-when-cross-origin",
  "Content-Security-Policy": "object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  "Cross-Origin-Opener-Policy": "same-origin",
  "X-XSS-Protection": "0",
};

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;

/**
 * Reads `GATE.security_headers`: each key a header name, each value either a
 * string (the gate's value; the origin's own still wins), `false` (off), or a
 * table `{ value = "…" | false, origin_wins = true | false }`. Headers not named
 * keep their defaults. Names are matched case-insensitively.
 */
export function parseSecurityHeaders(problems: Problems, value: unknown): Map<string, HeaderRule> {
  const rules = new Map<string, HeaderRule>();
  for (const [name, headerValue] of Object.entries(DEFAULT_SECURITY_HEADERS)) {
    rules.set(name.toLowerCase(), { value: headerValue, originWins: true });
  }
  if (value === undefined) return rules;
  if (!isTable(value)) {
    problems.add("GATE.security_headers", `expected a table of header names, got ${show(value)}`);
    return rules;
  }
  for (const [name, setting] of Object.entries(value)) {
    const key = `GATE.security_headers.${name}`;
    if (!HEADER_NAME.test(name)) {
      problems.add(key, "is not a valid header name");
      continue;
    }
    const rule = parseRule(problems, key, setting, rules.get(name.toLowerCase()));
    if (rule) rules.set(name.toLowerCase(), rule);
    else rules.delete(name.toLowerCase());
  }
  return rules;
}

function parseRule(problems: Problems, key: string, setting: unknown, current?: HeaderRule): HeaderRule | undefined {
  const table = isTable(setting) ? setting : { value: setting };
  for (const name of Object.keys(table)) {
    if (name !== "value" && name !== "origin_wins") problems.add(`${key}.${name}`, "unknown key (expected one of value, origin_wins)");
  }
  const originWins = table.origin_wins ?? current?.originWins ?? true;
  if (typeof originWins !== "boolean") problems.add(`${key}.origin_wins`, `expected true or false, got ${show(originWins)}`);
  const headerValue = table.value ?? current?.value;
  if (headerValue === false) return undefined;
  if (typeof headerValue !== "string" || !HEADER_VALUE.test(headerValue)) {
    problems.add(key, `expected a header value (printable ASCII) or false, got ${show(headerValue)}`);
    return current;
  }
  return { value: headerValue, originWins: originWins !== false };
}
