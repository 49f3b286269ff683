// What scripts/starter-check.mjs demands of the package (contract §8): in the
// tarball, only the runtime code, its types, the origin helper, the bin and the
// docs a user needs, and every file package.json points at; installed, every
// subpath resolving from a user's code, the schema files an editor follows, and
// (the TypeScript probe) real types for each entry point, not `any`.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The bin file; while it is absent from the package, the bin step is skipped (it is being written). */
export const BIN_FILE = "bin/gatehouse-edge.mjs";

/** Files a published package may hold. Anything else fails the check, named. */
const ALLOWED = [
  /^(package\.json|README\.md|LICENSE|CHANGELOG\.md|schema\.json|wrangler\.schema\.json)$/,
  /^dist\/[\w./-]+\.(js|mjs|d\.ts)$/,
  /^origin\/[\w.-]+\.(mjs|d\.mts)$/,
  /^bin\/[\w.-]+\.mjs$/,
  /^docs\/[\w.-]+\.md$/,
];

/** Why a file must not be published, for the first pattern it matches. */
const FORBIDDEN = [
  [/(^|\/)(test|tests|__tests__|e2e)\/|\.(test|spec)\.[cm]?[jt]s$/, "a test"],
  [/(^|\/)(bench|benchmarks?)\//, "a benchmark"],
  [/(^|\/)fixtures?\//, "a fixture"],
  [/(^|\/)(\.dev\.vars|\.env)/, "local secrets"],
  [/(^|\/)node_modules\//, "node_modules"],
  [/(^|\/)\.wrangler\//, "wrangler's local state"],
  [/\.map$/, "a source map"],
  [/^(src|scripts|demo|examples)\//, "repository-only code (the exports point at dist/ and origin/)"],
  [/(?<!\.d)\.[cm]?ts$/, "a TypeScript source (only .d.ts/.d.mts declarations ship)"],
];

/** The files the starter and its README rely on, beyond what package.json points at. */
const REQUIRED = ["package.json", "README.md", "LICENSE", "CHANGELOG.md", "docs/deploy.md", "docs/storage-schema.md"];

/** Every file path in an `exports` value (conditions and subpaths, nested). */
function exportTargets(value) {
  if (typeof value === "string") return [value];
  if (value === null || typeof value !== "object") return [];
  return Object.values(value).flatMap(exportTargets);
}

/**
 * Problems of a tarball's file list against the allow list, and targets of
 * `main`, `types`, `exports` and `bin` that are not in it. A missing
 * {@link BIN_FILE} is not a problem here: the bin step reports it as skipped.
 */
export function packageProblems(pkg, files) {
  const problems = [];
  const present = new Set(files);
  for (const file of files) {
    const forbidden = FORBIDDEN.find(([pattern]) => pattern.test(file));
    if (forbidden) problems.push(`${file}: ${forbidden[1]}, must not be published`);
    else if (!ALLOWED.some((pattern) => pattern.test(file))) problems.push(`${file}: not in the allow list (scripts/lib/starter-package.mjs)`);
  }
  const bins = typeof pkg.bin === "string" ? [pkg.bin] : Object.values(pkg.bin ?? {});
  const pointed = [
    ...[pkg.main, pkg.types, pkg.typings].filter(Boolean).map((target) => ["main/types", target]),
    ...exportTargets(pkg.exports).map((target) => ["exports", target]),
    ...bins.map((target) => ["bin", target]),
  ];
  for (const [field, target] of pointed) {
    const file = target.replace(/^\.\//, "");
    if (!present.has(file) && file !== BIN_FILE) problems.push(`${field} points at ${target}, which is not in the tarball`);
  }
  for (const file of REQUIRED) if (!present.has(file)) problems.push(`${file} is missing from the tarball`);
  if (pkg.private === true) problems.push(`package.json is "private": npm would refuse to publish it`);
  return problems;
}

/** Every relative `$ref` file in a JSON Schema (`"../wrangler/config-schema.json"`, `"./schema.json#/x"`). */
export function schemaRefs(schema) {
  if (Array.isArray(schema)) return schema.flatMap(schemaRefs);
  if (schema === null || typeof schema !== "object") return [];
  const own = typeof schema.$ref === "string" && /^\.\.?\//.test(schema.$ref) ? [schema.$ref.split("#")[0]] : [];
  return [...own, ...Object.values(schema).flatMap(schemaRefs)];
}

/**
 * Follows the `#:schema` directive of `dir`/wrangler.toml (editor completion,
 * taplo) and every relative `$ref` from there: each file must exist and parse.
 */
export function schemaProblems(dir) {
  const directive = /^#:schema\s+(\S+)/m.exec(readFileSync(path.join(dir, "wrangler.toml"), "utf8"))?.[1];
  if (!directive) return ["wrangler.toml has no #:schema directive"];
  const problems = [];
  const queue = [path.resolve(dir, directive)];
  const seen = new Set();
  while (queue.length > 0) {
    const file = queue.shift();
    if (seen.has(file)) continue;
    seen.add(file);
    const shown = path.relative(dir, file);
    if (!existsSync(file)) {
      problems.push(`${shown} does not exist`);
      continue;
    }
    try {
      for (const ref of schemaRefs(JSON.parse(readFileSync(file, "utf8")))) queue.push(path.resolve(path.dirname(file), ref));
    } catch (error) {
      problems.push(`${shown}: ${error.message}`);
    }
  }
  return problems;
}

/**
 * Imports the installed package as a user's code in `dir` would: a module
 * written there resolves `gatehouse-edge` and each subpath of its `exports`
 * through node_modules and the exports map, and imports `signLogin`.
 * `import.meta.resolve` does not look at the disk, so each target is also
 * checked to exist (and a .json one to parse): a wrong target fails here, not
 * in a user's editor. Returns `{ signLogin, resolved: [{ name, url?, error? }] }`.
 */
export async function importInstalled(dir) {
  const { exports } = JSON.parse(readFileSync(path.join(dir, "node_modules", "gatehouse-edge", "package.json"), "utf8"));
  const names = Object.keys(exports ?? { ".": "" }).map((subpath) => `gatehouse-edge${subpath.slice(1)}`);
  const file = path.join(dir, "starter-check-probe.mjs");
  const source = `export { signLogin } from "gatehouse-edge/origin";
export const resolved = ${JSON.stringify(names)}.map((name) => {
  try {
    return { name, url: import.meta.resolve(name) };
  } catch (error) {
    return { name, error: error.message };
  }
});
`;
  writeFileSync(file, source);
  const probe = await import(pathToFileURL(file).href);
  for (const entry of probe.resolved) {
    const target = entry.url && fileURLToPath(entry.url);
    if (target && !existsSync(target)) entry.error = `resolves to ${target}, which does not exist`;
    else if (target?.endsWith(".json")) {
      try {
        JSON.parse(readFileSync(target, "utf8"));
      } catch (error) {
        entry.error = `${target}: ${error.message}`;
      }
    }
  }
  return probe;
}

/** Whether `version` satisfies a caret range `^a.b.c` (the only form the starter uses). */
export function satisfiesCaret(range, version) {
  const match = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(range ?? "");
  const got = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!match || !got) return false;
  const [want, have] = [match.slice(1).map(Number), got.slice(1).map(Number)];
  // ^0.b.c allows 0.b.x only; ^a.b.c (a > 0) allows a.x.x.
  const fixed = want[0] > 0 ? 1 : 2;
  for (let i = 0; i < fixed; i++) if (have[i] !== want[i]) return false;
  return have[0] * 1e12 + have[1] * 1e6 + have[2] >= want[0] * 1e12 + want[1] * 1e6 + want[2];
}

/** The entry points of contract §8 the probe imports: values and types of "gatehouse-edge", values of "gatehouse-edge/origin". */
const MAIN_VALUES = ["worker", "GatehouseSessions", "createGate", "gatehouse", "login", "logout"];
const MAIN_TYPES = ["GateBindings", "GateConfig", "GateIdentity", "GateOptions", "GatehouseVariables", "LogoutScope"];
const ORIGIN_VALUES = ["signLogin", "verifyAssertion", "GateAssertionError", "LOGIN_HEADER", "ASSERTION_HEADER"];

/**
 * A TypeScript file, written into the starter copy's src/ only, proving each
 * entry point has real types. With skipLibCheck, a declaration file whose own
 * imports do not resolve makes its exports `any` without a word, and `any`
 * also defeats conditional-type tests; so each export is assigned to (or from)
 * `null`, which must fail: an unused `@ts-expect-error` is the error that
 * reports an untyped export. Then the shapes a deployment relies on.
 */
export const TYPES_PROBE = [
  "// Written by scripts/starter-check.mjs; not part of the starter.",
  `import ${MAIN_VALUES[0]}, { ${MAIN_VALUES.slice(1).join(", ")} } from "gatehouse-edge";`,
  `import type { ${MAIN_TYPES.join(", ")} } from "gatehouse-edge";`,
  `import { ${ORIGIN_VALUES.join(", ")} } from "gatehouse-edge/origin";`,
  ...[...MAIN_VALUES, ...ORIGIN_VALUES].flatMap((name) => [
    `// @ts-expect-error ${name} is typed, so not null`,
    `export const value_${name}: null = ${name};`,
  ]),
  ...MAIN_TYPES.flatMap((name) => [`// @ts-expect-error ${name} is a type of its own, not any`, `export const type_${name}: ${name} = null;`]),
  `export const handler: Required<Pick<ExportedHandler<GateBindings>, "fetch" | "scheduled">> = worker;`,
  "export const built: ExportedHandler<GateBindings> = createGate();",
  "export const objects: abstract new (...args: never[]) => unknown = GatehouseSessions;",
  `export const token: Promise<string> = signLogin("secret", { sub: "alice", roles: ["user"] });`,
  `export const headers: ["X-Gate-Login", "X-Gate-Assertion"] = [LOGIN_HEADER, ASSERTION_HEADER];`,
  "",
].join("\n");
