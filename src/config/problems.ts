import { DURATION_FORM, parseDuration } from "./duration";

/**
 * Collects every configuration problem instead of stopping at the first, as
 * oauth2-proxy's validation does: an operator fixes a config in one pass.
 * Each message names the key and the expected form.
 */
export interface Problems {
  readonly list: string[];
  add(key: string, message: string): void;
}

/** A fresh, empty collector. */
export function createProblems(): Problems {
  const list: string[] = [];
  return { list, add: (key, message) => void list.push(`${key}: ${message}`) };
}

/** Renders a value for a message: strings quoted, everything else as JSON. */
export function show(value: unknown): string {
  if (value === undefined) return "nothing";
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** True for a plain object (a TOML table), not an array or null. */
export function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Reads an optional table at `key`, reporting unknown keys (a misspelt
 * `idle_timout` must not silently fall back to the default).
 */
export function readTable(problems: Problems, key: string, value: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isTable(value)) {
    problems.add(key, `expected a table, got ${show(value)}`);
    return {};
  }
  for (const name of Object.keys(value)) {
    if (allowed.includes(name)) continue;
    const near = closest(name, allowed);
    problems.add(`${key}.${name}`, `unknown key${near ? `: did you mean "${near}"?` : ""} (expected one of ${allowed.join(", ")})`);
  }
  return value;
}

/**
 * The allowed key a misspelt one most likely meant: within two edits, or one
 * in every four letters for longer names. Hand-written: a dozen lines of
 * Levenshtein distance do not justify a dependency in every Worker.
 */
export function closest(name: string, allowed: readonly string[]): string | undefined {
  const limit = Math.max(2, Math.floor(name.length / 4));
  let best: { key: string; distance: number } | undefined;
  for (const key of allowed) {
    const distance = editDistance(name.toLowerCase(), key.toLowerCase());
    if (distance <= limit && (!best || distance < best.distance)) best = { key, distance };
  }
  return best?.key;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 8) return Number.POSITIVE_INFINITY;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length];
}

/** Reads an optional string that must be one of `choices`. */
export function readChoice<T extends string>(problems: Problems, key: string, value: unknown, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value === "string" && (choices as readonly string[]).includes(value)) return value as T;
  problems.add(key, `expected one of ${choices.map((c) => `"${c}"`).join(", ")}, got ${show(value)}`);
  return fallback;
}

/** Reads an optional duration in milliseconds; `min` is inclusive. */
export function readDuration(problems: Problems, key: string, value: unknown, fallback: string, min = 1_000): number {
  // `null` (possible in JSON text) is a value written wrongly, not an absent key.
  const ms = parseDuration(value === undefined ? fallback : value);
  if (ms === undefined) {
    problems.add(key, `expected ${DURATION_FORM}, got ${show(value)}`);
    return parseDuration(fallback) ?? 0;
  }
  if (ms < min) problems.add(key, `must be at least ${min / 1_000}s, got ${show(value)}`);
  return ms;
}

/** Reads an optional list of non-empty strings. */
export function readStrings(problems: Problems, key: string, value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value) && value.every((item) => typeof item === "string" && item.length > 0)) return value;
  problems.add(key, `expected a list of non-empty strings, got ${show(value)}`);
  return undefined;
}

/** Reads an optional whole number within `[min, max]`. */
export function readInteger(problems: Problems, key: string, value: unknown, fallback: number, [min, max]: [number, number]): number {
  if (value === undefined) return fallback;
  if (typeof value === "number" && Number.isInteger(value) && value >= min && value <= max) return value;
  problems.add(key, `expected a whole number from ${min} to ${max}, got ${show(value)}`);
  return fallback;
}

/** Reads an optional boolean. */
export function readBoolean(problems: Problems, key: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value === "boolean") return value;
  problems.add(key, `expected true or false, got ${show(value)}`);
  return fallback;
}
