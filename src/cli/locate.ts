/**
 * The line of each key of a TOML document, by key path: `vars.GATE.session.idle_timeout`,
 * `vars.GATE.routes[2].access` (the third `[[vars.GATE.routes]]`), keys of inline
 * tables (`default = { limit = 600 }` gives `….default.limit`), elements of
 * arrays (`trusted_origins[1]`), `[env.staging.vars.GATE]`. smol-toml returns
 * values without positions, so this reads the text a second time, after it
 * parsed: it follows only what decides a key's path (headers, keys, strings,
 * inline tables, arrays) and skips every other value. A table written only
 * through its children (`[vars.GATE.session]` without `[vars.GATE]`) gets the
 * line where it first appears.
 */

/** Key path → 1-based line of its first appearance. */
export type Locations = ReadonlyMap<string, number>;

interface Cursor {
  readonly text: string;
  pos: number;
  line: number;
  readonly found: Map<string, number>;
  /** Array-of-tables path (`vars.GATE.routes`) → how many elements so far. */
  readonly arrays: Map<string, number>;
}

const BARE_KEY = /[A-Za-z0-9_-]/;
/** Where a value that is not a string, array or inline table ends. */
const SCALAR_END = /[,\]}\s#]/;
/** A date followed by a space and a time: one TOML value (`1979-05-27 07:32:00`). */
const SPACED_DATETIME = /^\d{4}-\d{2}-\d{2} \d/;

/** The lines of every key of `text`, a document smol-toml parsed. */
export function locate(text: string): Locations {
  const at: Cursor = { text, pos: 0, line: 1, found: new Map(), arrays: new Map() };
  let table = "";
  while (skipBlank(at, true)) {
    if (at.text[at.pos] === "[") table = readHeader(at);
    else readKeyValue(at, table);
  }
  return at.found;
}

/** The path of a key under `base`. */
export function child(base: string, key: string): string {
  return base ? `${base}.${key}` : key;
}

/** The path one level up (`a.b[2]` → `a.b`, `a.b` → `a`), or undefined at the top. */
export function parent(path: string): string | undefined {
  const match = /(\[\d+\]|\.[^.[\]]+)$/.exec(path);
  return match ? path.slice(0, match.index) : undefined;
}

function record(at: Cursor, path: string, line: number): void {
  if (!at.found.has(path)) at.found.set(path, line);
}

/** Skips spaces, comments and (when `newlines`) line ends; false at the end of the text. */
function skipBlank(at: Cursor, newlines: boolean): boolean {
  while (at.pos < at.text.length) {
    const c = at.text[at.pos];
    if (c === "#") {
      while (at.pos < at.text.length && at.text[at.pos] !== "\n") at.pos++;
    } else if (c === "\n" && newlines) {
      at.line++;
      at.pos++;
    } else if (c === " " || c === "\t" || c === "\r") {
      at.pos++;
    } else {
      return true;
    }
  }
  return false;
}

/** `[a.b]` or `[[a.b]]`: the path of the table that follows (`a.b[3]` for the fourth element). */
function readHeader(at: Cursor): string {
  const line = at.line;
  const isArray = at.text.startsWith("[[", at.pos);
  at.pos += isArray ? 2 : 1;
  const keys = readKey(at);
  at.pos += isArray ? 2 : 1;
  let path = "";
  keys.forEach((key, index) => {
    path = child(path, key);
    const count = at.arrays.get(path);
    if (index < keys.length - 1 && count !== undefined) path = `${path}[${count - 1}]`;
    record(at, path, line);
  });
  if (!isArray) return path;
  const index = at.arrays.get(path) ?? 0;
  at.arrays.set(path, index + 1);
  record(at, `${path}[${index}]`, line);
  return `${path}[${index}]`;
}

/** `key = value` (a dotted key too), under the table at `base`. */
function readKeyValue(at: Cursor, base: string): void {
  const line = at.line;
  let path = base;
  for (const key of readKey(at)) {
    path = child(path, key);
    record(at, path, line);
  }
  skipBlank(at, false);
  at.pos++; // "="
  readValue(at, path);
}

/** A dotted key, bare or quoted parts; stops after it (at "=", "]" or "]]"). */
function readKey(at: Cursor): string[] {
  const keys: string[] = [];
  do {
    skipBlank(at, false);
    const c = at.text[at.pos];
    const start = at.pos;
    if (c === '"' || c === "'") {
      skipString(at);
      const raw = at.text.slice(start + 1, at.pos - 1);
      keys.push(c === '"' ? decodeBasic(raw) : raw);
    } else {
      while (at.pos < at.text.length && BARE_KEY.test(at.text[at.pos])) at.pos++;
      keys.push(at.text.slice(start, at.pos));
    }
    skipBlank(at, false);
    if (at.text[at.pos] !== ".") return keys;
    at.pos++;
  } while (at.pos < at.text.length);
  return keys;
}

function decodeBasic(raw: string): string {
  try {
    return JSON.parse(`"${raw}"`);
  } catch {
    return raw;
  }
}

/** One value at `path`: the keys inside an inline table and the elements of an array are recorded too. */
function readValue(at: Cursor, path: string): void {
  skipBlank(at, false);
  const c = at.text[at.pos];
  if (c === "{") readInlineTable(at, path);
  else if (c === "[") readArray(at, path);
  else if (c === '"' || c === "'") skipString(at);
  else {
    if (SPACED_DATETIME.test(at.text.slice(at.pos, at.pos + 12))) at.pos += 11;
    while (at.pos < at.text.length && !SCALAR_END.test(at.text[at.pos])) at.pos++;
  }
}

function readInlineTable(at: Cursor, path: string): void {
  at.pos++;
  // Newlines inside are TOML 1.1; skipping them costs nothing.
  while (skipBlank(at, true) && at.text[at.pos] !== "}") {
    if (at.text[at.pos] === ",") at.pos++;
    else readKeyValue(at, path);
  }
  at.pos++;
}

function readArray(at: Cursor, path: string): void {
  at.pos++;
  let index = 0;
  while (skipBlank(at, true) && at.text[at.pos] !== "]") {
    if (at.text[at.pos] === ",") {
      at.pos++;
      index++;
      continue;
    }
    record(at, `${path}[${index}]`, at.line);
    readValue(at, `${path}[${index}]`);
  }
  at.pos++;
}

/** Any of TOML's four kinds of string; counts the lines a multi-line one spans. */
function skipString(at: Cursor): void {
  const quote = at.text[at.pos];
  const triple = quote.repeat(3);
  const multiline = at.text.startsWith(triple, at.pos);
  const close = multiline ? triple : quote;
  let pos = at.pos + close.length;
  // A backslash escapes the next character in basic strings only; a one-line string never spans a line end.
  while (pos < at.text.length && !at.text.startsWith(close, pos) && (multiline || at.text[pos] !== "\n"))
    pos += quote === '"' && at.text[pos] === "\\" ? 2 : 1;
  if (at.text.startsWith(close, pos)) pos += close.length;
  // One or two more quotes right after the closing three are content (`"""say "hi""""`).
  for (let extra = 0; multiline && extra < 2 && at.text[pos] === quote; extra++) pos++;
  at.line += countLines(at.text, at.pos, Math.min(pos, at.text.length));
  at.pos = pos;
}

function countLines(text: string, from: number, to: number): number {
  let lines = 0;
  for (let pos = from; pos < to; pos++) if (text[pos] === "\n") lines++;
  return lines;
}
