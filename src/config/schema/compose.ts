import { type Problems, isTable, readTable, show } from "../problems";
import type { Doc, JsonSchema, Node } from "./nodes";

/** The value type a node reads into. */
export type ReadOf<N> = N extends Node<infer T> ? T : never;

type Fields = Record<string, Node<unknown>>;

/** The TypeScript text of a table's fields: `{ a?: string; b: number }`, with each field's description. */
function tsFields(fields: Fields, indent: string): string {
  const lines = Object.entries(fields).map(([name, node]) => {
    const doc = typeof node.schema.description === "string" ? `${indent}  /** ${node.schema.description} */\n` : "";
    const type = node.ts.replace(/\n/g, `\n${indent}  `);
    return `${doc}${indent}  ${name}${node.required ? "" : "?"}: ${type};`;
  });
  return `{\n${lines.join("\n")}\n${indent}}`;
}

/**
 * A table of known fields, read in the order written here; an unknown key is
 * a problem (with the key it most likely meant). Not a table: one problem,
 * and the fields' defaults (`skip`: `undefined`, for an entry of a list or map).
 */
export function table<F extends Fields>(
  fields: F,
  options: Doc & { notTable?: (value: unknown) => string; skip?: boolean },
): Node<{ [K in keyof F]: ReadOf<F[K]> }> {
  const names = Object.keys(fields);
  const required = names.filter((name) => fields[name].required);
  return {
    schema: {
      description: options.doc,
      type: "object",
      additionalProperties: false,
      properties: Object.fromEntries(names.map((name) => [name, fields[name].schema])),
      ...(required.length > 0 && { required }),
    },
    ts: tsFields(fields, ""),
    read(problems, key, value) {
      if (value !== undefined && !isTable(value)) {
        problems.add(key, options.notTable ? options.notTable(value) : `expected a table, got ${show(value)}`);
        if (options.skip) return undefined as never;
      }
      const raw = isTable(value) ? readTable(problems, key, value, names) : {};
      return Object.fromEntries(names.map((name) => [name, fields[name].read(problems, `${key}.${name}`, raw[name])])) as {
        [K in keyof F]: ReadOf<F[K]>;
      };
    },
  };
}

/** A table of entries by name (`GATE.rate_limits.<name>`, `GATE.oidc.<name>`), each read by `entry`; entries that are not tables are skipped. */
export function named<T>(entry: Node<T>, options: Doc & { name: RegExp; nameProblem: string; nameSchema: string }): Node<Map<string, T>> {
  return {
    schema: { description: options.doc, type: "object", propertyNames: { pattern: options.nameSchema }, additionalProperties: entry.schema },
    ts: `Record<string, ${entry.ts.replace(/\n/g, "\n")}>`,
    read(problems, key, value) {
      const entries = new Map<string, T>();
      if (value === undefined) return entries;
      if (!isTable(value)) {
        problems.add(key, `expected a table, got ${show(value)}`);
        return entries;
      }
      for (const [name, raw] of Object.entries(value)) {
        if (!options.name.test(name)) problems.add(`${key}.${name}`, options.nameProblem);
        const read = entry.read(problems, `${key}.${name}`, raw);
        if (read !== undefined) entries.set(name, read);
      }
      return entries;
    },
  };
}

/** A list of entries (`[[vars.GATE.routes]]`), each read by `entry`; entries it cannot read are left out. */
export function list<T>(entry: Node<T>, options: Doc & { notList: (value: unknown) => string }): Node<T[]> {
  return {
    schema: { description: options.doc, type: "array", items: entry.schema },
    ts: `Array<${entry.ts}>`,
    read(problems, key, value) {
      if (value === undefined) return [];
      if (!Array.isArray(value)) {
        problems.add(key, options.notList(value));
        return [];
      }
      return value.map((item, index) => entry.read(problems, `${key}[${index}]`, item)).filter((item): item is NonNullable<T> => item !== undefined);
    },
  };
}

/** A node written by hand, for values no constructor above describes (security header rules). */
export function custom<T>(node: { schema: JsonSchema; ts: string; read(problems: Problems, key: string, value: unknown): T }): Node<T> {
  return node;
}
