import { DURATION_FORM, parseDuration } from "../duration";
import { type Problems, isTable, readBoolean, readChoice, readDuration, readInteger, readStrings, readTable, show } from "../problems";

/**
 * The configuration's definitions, written once: each node reads its part of
 * the `GATE` table (collecting problems, never throwing) and describes it, as
 * a JSON Schema (`schema.json`, for editors) and as a TypeScript type
 * (`GateConfig`). The parser, the schema and the type cannot drift because
 * they are the same objects (scripts/schema.mjs writes the files; a test
 * fails when the committed ones differ).
 */

/** The JSON Schema subset the nodes emit. */
export type JsonSchema = Record<string, unknown>;

/** One part of the configuration. */
export interface Node<T> {
  /** JSON Schema of the TOML value, with its description and default. */
  readonly schema: JsonSchema;
  /** TypeScript type of the TOML value (what a user writes). */
  readonly ts: string;
  /** Reads the value at `key` (`undefined`: absent, use the default). */
  read(problems: Problems, key: string, value: unknown): T;
  /** An absent value is a problem (table fields only). */
  readonly required?: boolean;
}

/** Common options: what it is for, in one sentence users read in their editor. */
export interface Doc {
  doc: string;
}

const described = (schema: JsonSchema, doc: string, fallback?: unknown) => ({
  description: doc,
  ...(fallback !== undefined && { default: fallback }),
  ...schema,
});

/** Text; `fallback` when absent. */
export function text(options: Doc & { fallback?: string }): Node<string | undefined> {
  return {
    schema: described({ type: "string" }, options.doc, options.fallback),
    ts: "string",
    read(problems, key, value) {
      const given = value ?? options.fallback;
      if (given === undefined || typeof given === "string") return given;
      problems.add(key, `expected text, got ${show(given)}`);
      return undefined;
    },
  };
}

/** Text read by `check`, which says what it expected when the value is wrong. */
export function checkedText<T>(
  options: Doc & { fallback?: string; format?: string },
  check: (problems: Problems, key: string, value: unknown) => T,
): Node<T> {
  return {
    schema: described({ type: "string", ...(options.format && { format: options.format }) }, options.doc, options.fallback),
    ts: "string",
    read: check,
  };
}

/** true or false. */
export function flag(options: Doc & { fallback: boolean }): Node<boolean> {
  return {
    schema: described({ type: "boolean" }, options.doc, options.fallback),
    ts: "boolean",
    read: (problems, key, value) => readBoolean(problems, key, value, options.fallback),
  };
}

/** A whole number in `[min, max]`. */
export function whole(options: Doc & { fallback: number; min: number; max: number }): Node<number> {
  return {
    schema: described({ type: "integer", minimum: options.min, maximum: options.max }, options.doc, options.fallback),
    ts: "number",
    read: (problems, key, value) => readInteger(problems, key, value, options.fallback, [options.min, options.max]),
  };
}

/** A duration (`"30s"`, `"15m"`, `"12h"`, `"7d"`), read in milliseconds; `min` in ms. */
export function duration(options: Doc & { fallback: string; min?: number }): Node<number> {
  return {
    schema: described({ type: "string", pattern: "^\\d{1,9}[smhd]$", examples: ["30s", "15m", "12h", "7d"] }, options.doc, options.fallback),
    ts: "Duration",
    read: (problems, key, value) => readDuration(problems, key, value, options.fallback, options.min),
  };
}

/** An optional duration with no default: `undefined` when absent. */
export function optionalDuration(options: Doc & { min?: number }): Node<number | undefined> {
  return {
    schema: described({ type: "string", pattern: "^\\d{1,9}[smhd]$", examples: ["30s", "10m", "1h"] }, options.doc),
    ts: "Duration",
    read: (problems, key, value) => (value === undefined ? undefined : readDuration(problems, key, value, "1m", options.min)),
  };
}

/** One of a closed list of strings. */
export function choice<const C extends string>(choices: readonly C[], options: Doc & { fallback: NoInfer<C> }): Node<C> {
  return {
    schema: described({ type: "string", enum: choices }, options.doc, options.fallback),
    ts: choices.map((c) => JSON.stringify(c)).join(" | "),
    read: (problems, key, value) => readChoice(problems, key, value, choices, options.fallback),
  };
}

/** A list of non-empty strings; `fallback` when absent. */
export function texts(options: Doc & { fallback?: string[] }): Node<string[] | undefined> {
  return {
    schema: described({ type: "array", items: { type: "string", minLength: 1 } }, options.doc, options.fallback),
    ts: "string[]",
    read: (problems, key, value) => readStrings(problems, key, value) ?? (value === undefined ? options.fallback : undefined),
  };
}

/** Marks a table field as required: absent, it is a problem of its own node (which says what it expected). */
export function required<T>(node: Node<T>): Node<T> {
  return { ...node, required: true };
}

export { DURATION_FORM, isTable, parseDuration, readTable, show };
