/**
 * `main`: any module that reaches the package (contract §8). A deployment's
 * src/index.ts is one line, `export { default, GatehouseSessions } from
 * "gatehouse-edge";`; a Worker with its own routes imports the `gatehouse`
 * middleware instead, and has no origin to forward to.
 */
import { existsSync, realpathSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { ParseMode } from "../config/parse";
import { show } from "../config/problems";
import type { WorkerFields } from "./environment";
import { PACKAGE_ENTRIES, readText, showPath } from "./paths";
import { type Problem, problem } from "./problem";

const PACKAGE = "gatehouse-edge";
const ONE_LINE = `export { default, GatehouseSessions } from "${PACKAGE}";`;
/** An import or export from the package; the clause has no quotes, so a match never spans two statements. */
const FROM_PACKAGE = /\b(import|export)\b([^;"'`]*?)\bfrom\s*["']gatehouse-edge["']/g;
const DYNAMIC_IMPORT = /\b(import|require)\s*\(\s*["']gatehouse-edge["']\s*\)/;
const EXPORTS_SESSIONS = [
  /\bexport\s*\*\s*from\s*["']gatehouse-edge["']/,
  /\bexport\s*(type\s+)?\{[^}]*\bGatehouseSessions\b[^}]*\}/,
  /\bexport\s+(declare\s+)?(abstract\s+)?(class|const|let|var|function)\s+GatehouseSessions\b/,
];

/** What `main` is, as far as the check needs to know. */
export interface Entry {
  problems: Problem[];
  /** How the gate runs: "middleware" when main uses only the Hono middleware. */
  mode: ParseMode;
  /** Whether main exports the Durable Object class (false when unknown: main unreadable). */
  exportsSessions: boolean;
}

/** Checks `main` exists and reaches the package; `configDir` is where wrangler resolves it from. */
export function readEntry({ fields, where }: WorkerFields, configDir: string): Entry {
  const fail = (text: string): Entry => ({ problems: [problem(`${where.main}: ${text}`, where.main)], mode: "proxy", exportsSessions: false });
  if (fields.main === undefined) return fail(`missing: wrangler needs the Worker's entry, such as "src/index.ts" holding ${ONE_LINE}`);
  if (typeof fields.main !== "string" || !fields.main) return fail(`expected a path such as "src/index.ts", got ${show(fields.main)}`);
  const file = path.resolve(configDir, fields.main);
  if (!existsSync(file))
    return fail(`${show(fields.main)} does not exist (no file ${showPath(file)}); wrangler resolves main from the config's folder`);
  const real = realpathSync(file);
  if (PACKAGE_ENTRIES.some((entry) => existsSync(entry) && realpathSync(entry) === real))
    return { problems: [], mode: "proxy", exportsSessions: true };
  return readUserEntry(readText(file), file, fields.main, fail);
}

function readUserEntry(text: string, file: string, main: string, fail: (text: string) => Entry): Entry {
  const code = withoutComments(text);
  const clauses = [...code.matchAll(FROM_PACKAGE)].map((match) => ({ kind: match[1], clause: match[2].trim() }));
  if (clauses.length === 0 && !DYNAMIC_IMPORT.test(code)) {
    return fail(`${show(main)} does not import or re-export "${PACKAGE}", so the Worker would not be the gate; write ${ONE_LINE}`);
  }
  if (!resolvesPackage(file)) return fail(`${show(main)} imports "${PACKAGE}", which is not installed there (npm install ${PACKAGE})`);
  const names = clauses.flatMap(({ clause }) => specifiers(clause));
  // A default import or a namespace one may be the Worker; `export *` never re-exports `default`.
  const worker =
    clauses.some(({ kind, clause }) => kind === "import" && /^([\w$]+\s*(,|$)|\*)/.test(clause)) ||
    names.some((name) => name === "default" || name === "createGate");
  const middleware = !worker && names.includes("gatehouse");
  return { problems: [], mode: middleware ? "middleware" : "proxy", exportsSessions: EXPORTS_SESSIONS.some((pattern) => pattern.test(code)) };
}

/** The names inside `{ … }` of an import or export clause, without `as` renames and `type`. */
function specifiers(clause: string): string[] {
  const braces = /\{([^}]*)\}/.exec(clause);
  if (!braces) return [];
  return braces[1]
    .split(",")
    .map((item) =>
      item
        .trim()
        .replace(/^type\s+/, "")
        .split(/\s+as\s+/)[0]
        .trim(),
    )
    .filter(Boolean);
}

function resolvesPackage(file: string): boolean {
  try {
    createRequire(file).resolve(`${PACKAGE}/package.json`);
    return true;
  } catch {
    return false;
  }
}

/** Strings (kept) or comments (dropped), whichever starts first: `/*` inside a line comment or a string is neither. */
const STRING_OR_COMMENT = /("(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|`(?:\\.|[^`\\])*`)|\/\/[^\n]*|\/\*[\s\S]*?\*\//g;

/** The code without comments, so a commented-out import does not count. */
function withoutComments(text: string): string {
  return text.replace(STRING_OR_COMMENT, (_match, string: string | undefined) => string ?? "");
}
