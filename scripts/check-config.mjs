#!/usr/bin/env node
/**
 * `npm run check-config`: reports every problem of a wrangler.toml (and its
 * secrets) without starting the gate, so CI can refuse a deploy the gate would
 * answer with 500 `misconfigured` (contract §1).
 *
 * The gate's own `parseConfig` runs inside workerd (via Miniflare) on bindings
 * built the way wrangler builds them, so this check and the deployed gate can
 * never disagree. Around it, this script adds what only wrangler.toml shows:
 * `main`, `compatibility_date`, binding declarations, secrets written in [vars].
 *
 *   node scripts/check-config.mjs [--config wrangler.toml] [--env NAME]
 *        [--dev-vars FILE | --secrets-from-env | --no-secrets]
 *
 * Exit status: 0 valid, 1 problems (or an unreadable config), 2 bad arguments.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { parse as parseToml } from "smol-toml";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const WORKER_ENTRY = path.join(ROOT, "scripts", "check-config-worker.ts");
const WORKER_NAME = "gatehouse-check-config";
const EXPECTED_MAIN = "src/index.ts";
/** Secrets the gate reads (contract §1); `--secrets-from-env` takes exactly these. */
const SECRET_NAMES = ["GATE_SECRET", "GATE_ORIGIN_SECRET", "GATE_ADMIN_TOKEN", "UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN"];
/** Secrets that must never be written in wrangler.toml, which is committed with the code. */
const NEVER_IN_VARS = ["GATE_SECRET", "GATE_ORIGIN_SECRET", "GATE_ADMIN_TOKEN", "UPSTASH_REDIS_REST_TOKEN"];
/** With `--no-secrets`: values that pass every secret check, so only the rest is judged. */
const PLACEHOLDER_SECRETS = {
  GATE_SECRET: "check-config placeholder: not a real secret 0123456789",
  GATE_ORIGIN_SECRET: "check-config placeholder: not a real secret 0123456789",
  UPSTASH_REDIS_REST_URL: "https://placeholder.upstash.io",
  UPSTASH_REDIS_REST_TOKEN: "check-config-placeholder",
};
/** wrangler copies these from the top level into an environment that does not set them. */
const INHERITED = ["main", "compatibility_date", "compatibility_flags"];
/** wrangler does NOT inherit these: an environment has only its own (it warns when they are missing). */
const NOT_INHERITED = ["vars", "kv_namespaces", "services", "ratelimits", "secrets"];
const MISSING_SECRET = /^(GATE_SECRET|GATE_ORIGIN_SECRET|UPSTASH_REDIS_REST_URL|UPSTASH_REDIS_REST_TOKEN): /;

const USAGE = `usage: npm run check-config -- [options]
  --config <path>      wrangler.toml to check (default ./wrangler.toml)
  --env <name>         check [env.<name>] as \`wrangler deploy --env <name>\` would see it
  --dev-vars <path>    read secrets from this file (default: .dev.vars next to the config,
                       .dev.vars.<name> first with --env, then .env files, as wrangler dev does)
  --secrets-from-env   read the secrets from the environment instead (CI):
                       ${SECRET_NAMES.join(", ")}
  --no-secrets         do not check secrets (in CI they live in Cloudflare, not in files);
                       without it, or the two options above, missing secrets are problems`;

/** A failure that ends the check with one line (an unreadable config, bad arguments). */
class FatalError extends Error {}

/**
 * Checks one configuration. Returns `{ label, problems, summary, hints }`:
 * no problems means the gate would start with it. Throws {@link FatalError}.
 */
export async function checkConfig(options = {}) {
  const configPath = path.resolve(options.config ?? "wrangler.toml");
  const shown = showPath(configPath);
  const label = shown + (options.env ? ` [env.${options.env}]` : "");
  const worker = selectEnvironment(readToml(configPath, label), options.env, label);
  const secrets = loadSecrets(options, configPath, worker.fields.secrets);
  const bindings = readBindings(worker);
  const runtime = await import("miniflare");
  const compat = readCompatibility(worker, runtime.supportedCompatibilityDate ?? workerdDate());
  const problems = [...worker.problems, ...readMain(worker), ...compat.problems, ...bindings.problems, ...secretsInVars(bindings.vars, worker.where.vars)];
  const vars = secrets.skipped ? { ...PLACEHOLDER_SECRETS, ...bindings.vars } : { ...bindings.vars, ...secrets.values };
  const { verdict: result, problems: refused } = await runParser(runtime, { ...bindings, vars }, compat, label);
  problems.push(...refused, ...(result.ok ? [] : result.problems));
  const hints = [];
  if (!secrets.source && problems.some((problem) => MISSING_SECRET.test(problem))) {
    hints.push(`(no .dev.vars or .env next to ${shown}: create one for development; in CI use --secrets-from-env or --no-secrets)`);
  }
  const summary = result.ok ? `${result.routes} route${result.routes === 1 ? "" : "s"}, store ${result.store}${secrets.skipped ? "; secrets not checked" : ""}` : "";
  return { label, problems, summary, hints };
}

function readToml(file, label) {
  const text = readText(file, label);
  try {
    return parseToml(text);
  } catch (error) {
    const reason = String(error.message).split("\n")[0].replace(/^Invalid TOML document: /, "");
    const where = error.line ? ` (line ${error.line}, column ${error.column})` : "";
    throw new FatalError(`${label}: not valid TOML: ${reason}${where}`);
  }
}

/**
 * The fields wrangler would use for `--env` (or the top level), and for each the
 * key to name in a message (`env.staging.vars` or `vars`).
 */
function selectEnvironment(raw, envName, label) {
  const fields = {};
  const where = {};
  const problems = [];
  if (envName === undefined) {
    for (const key of [...INHERITED, ...NOT_INHERITED]) [fields[key], where[key]] = [raw[key], key];
    return { fields, where, problems };
  }
  const section = isTable(raw.env) ? raw.env[envName] : undefined;
  if (!isTable(section)) {
    const defined = isTable(raw.env) ? Object.keys(raw.env) : [];
    throw new FatalError(`${label}: no [env.${envName}] section (${defined.length ? `defined: ${defined.join(", ")}` : "none defined"})`);
  }
  for (const key of INHERITED) {
    const own = section[key] !== undefined;
    [fields[key], where[key]] = [own ? section[key] : raw[key], own ? `env.${envName}.${key}` : key];
  }
  for (const key of NOT_INHERITED) {
    [fields[key], where[key]] = [section[key], `env.${envName}.${key}`];
    if (section[key] === undefined && raw[key] !== undefined) {
      problems.push(`env.${envName}.${key}: missing; wrangler does not inherit the top-level ${key} into environments, so the gate would run without it (copy it under [env.${envName}])`);
    }
  }
  return { fields, where, problems };
}

function readMain({ fields, where }) {
  if (fields.main === undefined) return [`main: missing (expected "${EXPECTED_MAIN}")`];
  if (typeof fields.main === "string" && fields.main.replace(/^\.\//, "") === EXPECTED_MAIN) return [];
  return [`${where.main}: expected "${EXPECTED_MAIN}", got ${show(fields.main)}`];
}

/** The date and flags to run the parser with, and what is wrong with the configured ones. */
function readCompatibility({ fields, where }, supported) {
  const problems = [];
  const date = fields.compatibility_date;
  let runDate = supported;
  if (date === undefined) {
    problems.push(`compatibility_date: missing (wrangler deploy requires one, such as "${supported}")`);
  } else if (typeof date !== "string" || !isIsoDate(date)) {
    problems.push(`${where.compatibility_date}: expected a date in quotes such as "${supported}", got ${date instanceof Date ? `${show(date)} (a TOML date, not a string)` : show(date)}`);
  } else if (date > supported) {
    problems.push(`${where.compatibility_date}: "${date}" is later than the installed workerd supports ("${supported}"); use that date or earlier, or update wrangler`);
  } else {
    runDate = date;
  }
  let flags = fields.compatibility_flags ?? [];
  if (!Array.isArray(flags) || !flags.every((flag) => typeof flag === "string")) {
    problems.push(`${where.compatibility_flags}: expected a list of strings, got ${show(flags)}`);
    flags = [];
  }
  return { problems, date: runDate, flags, where: where.compatibility_flags };
}

/** The bindings the gate can use, from [vars], [[kv_namespaces]], [[services]] and [[ratelimits]]. */
function readBindings({ fields, where }) {
  const problems = [];
  let vars = fields.vars ?? {};
  if (!isTable(vars)) {
    problems.push(`${where.vars}: expected a table ([vars]), got ${show(vars)}`);
    vars = {};
  }
  const declared = (key, check) => {
    const list = fields[key] ?? [];
    if (!Array.isArray(list)) {
      problems.push(`${where[key]}: expected a list of tables ([[${key}]]), got ${show(list)}`);
      return [];
    }
    return list.flatMap((entry, index) => {
      // A check answers the rest of the message: `.field: …` or `: …`.
      const problem = isTable(entry) ? check(entry) : `: expected a table, got ${show(entry)}`;
      if (problem) problems.push(`${where[key]}[${index}]${problem}`);
      return problem ? [] : [{ ...entry, where: `${where[key]}[${index}]` }];
    });
  };
  const kv = declared("kv_namespaces", (entry) => (typeof entry.binding === "string" && entry.binding ? undefined : `.binding: expected a binding name, got ${show(entry.binding)}`));
  const services = declared("services", (entry) => (typeof entry.binding === "string" && entry.binding && typeof entry.service === "string" ? undefined : `: expected { binding = "NAME", service = "worker-name" }, got ${show(entry)}`));
  const ratelimits = declared("ratelimits", checkRatelimit);
  problems.push(...duplicateNames({ vars: Object.keys(vars), kv_namespaces: kv.map((entry) => entry.binding), services: services.map((entry) => entry.binding), ratelimits: ratelimits.map((entry) => entry.name) }, where));
  return {
    // JSON round trip: TOML dates become text, as they do in the bindings wrangler uploads.
    vars: JSON.parse(JSON.stringify(vars)),
    kv: kv.map((entry) => entry.binding),
    services: services.map((entry) => entry.binding),
    ratelimits: Object.fromEntries(ratelimits.map(({ name, simple, where }) => [name, { where, limit: simple.limit, period: simple.period }])),
    problems,
  };
}

/** wrangler refuses a config that gives two bindings one name; Miniflare would silently keep one. */
function duplicateNames(namesByKind, where) {
  const kinds = new Map();
  for (const [kind, names] of Object.entries(namesByKind)) {
    for (const name of names) kinds.set(name, [...(kinds.get(name) ?? []), where[kind]]);
  }
  return [...kinds].filter(([, list]) => list.length > 1).map(([name, list]) => `${name}: one binding name used ${list.length} times (${list.join(", ")})`);
}

/** A `[[ratelimits]]` entry as Miniflare and Workers Rate Limiting accept it (periods of 10 or 60 s only). */
function checkRatelimit(entry) {
  if (typeof entry.name !== "string" || !entry.name) return `.name: expected a binding name, got ${show(entry.name)}`;
  const simple = entry.simple;
  if (!isTable(simple) || !Number.isInteger(simple.limit) || simple.limit < 1) {
    return `.simple: expected { limit = <whole number>, period = 10 | 60 }, got ${show(simple)}`;
  }
  if (simple.period !== 10 && simple.period !== 60) return `.simple.period: expected 10 or 60 (seconds), got ${show(simple.period)}`;
  return undefined;
}

function secretsInVars(vars, key) {
  return NEVER_IN_VARS.filter((name) => Object.hasOwn(vars, name)).map(
    (name) => `${key}.${name}: is a secret; wrangler.toml is committed with the code, so use \`wrangler secret put ${name}\` (or .dev.vars in development)`,
  );
}

/**
 * Secrets as the gate would receive them: from `--dev-vars`, from the process
 * environment, or found next to the config the way `wrangler dev` finds them
 * (`.dev.vars.<env>`, then `.dev.vars`, then `.env` files).
 */
function loadSecrets(options, configPath, declaration) {
  if (options.noSecrets) return { values: {}, skipped: true };
  let loaded;
  if (options.secretsFromEnv) {
    loaded = { source: "process.env", values: Object.fromEntries(SECRET_NAMES.filter((name) => process.env[name] !== undefined).map((name) => [name, process.env[name]])) };
  } else if (options.devVars) {
    loaded = { source: options.devVars, values: parseDotenv(readText(path.resolve(options.devVars), showPath(path.resolve(options.devVars)))) };
  } else {
    loaded = findSecretFiles(path.dirname(configPath), options.env);
  }
  // With `secrets = { required = [...] }` in wrangler.toml, wrangler binds only those names.
  const required = isTable(declaration) && Array.isArray(declaration.required) ? declaration.required : undefined;
  if (required) loaded.values = Object.fromEntries(Object.entries(loaded.values).filter(([name]) => required.includes(name)));
  return loaded;
}

function findSecretFiles(dir, envName) {
  const devVars = [...(envName ? [`.dev.vars.${envName}`] : []), ".dev.vars"].map((name) => path.join(dir, name)).find((file) => existsSync(file));
  if (devVars) return { source: devVars, values: parseDotenv(readText(devVars, showPath(devVars))) };
  // wrangler reads .env files only when there is no .dev.vars; later files override earlier ones.
  const envFiles = [".env", ".env.local", ...(envName ? [`.env.${envName}`, `.env.${envName}.local`] : [])].map((name) => path.join(dir, name)).filter((file) => existsSync(file));
  const values = Object.assign({}, ...envFiles.map((file) => parseDotenv(readText(file, showPath(file)))));
  return { source: envFiles[0], values };
}

function readText(file, shown) {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new FatalError(`${shown}: cannot read it (${error.code === "ENOENT" ? "no such file" : error.message})`);
  }
}

const DOTENV_LINE = /(?:^|^)\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?\s*(?:#.*)?(?:$|$)/gm;

/**
 * Parses `KEY=VALUE` lines exactly as wrangler does (its `dotenv.parse`, whose
 * expression this copies; dotenv is BSD-2-Clause): optional `export`, single,
 * double or back quotes, `\n` escapes inside double quotes, `#` comments.
 */
export function parseDotenv(text) {
  const values = {};
  const lines = text.replace(/\r\n?/g, "\n");
  for (const match of lines.matchAll(DOTENV_LINE)) {
    let value = (match[2] || "").trim();
    const quote = value[0];
    value = value.replace(/^(['"`])([\s\S]*)\1$/gm, "$2");
    if (quote === '"') value = value.replace(/\\n/g, "\n").replace(/\\r/g, "\r");
    values[match[1]] = value;
  }
  return values;
}

/**
 * Bundles the checker worker and runs the gate's `parseConfig` in workerd on
 * these bindings. Resolves to `{ verdict, problems }`: the parser's verdict and
 * what workerd itself refused (unknown compatibility flags, which also fail a deploy).
 */
async function runParser(runtime, bindings, compat, label) {
  const script = await bundleWorker(label);
  const unknown = [];
  let run = await runOnce(runtime, script, bindings, compat);
  // workerd names one unknown flag per start; drop it and try again, at most once per flag.
  for (let flag = unknownFlag(run); flag && !unknown.includes(flag); flag = unknownFlag(run)) {
    unknown.push(flag);
    run = await runOnce(runtime, script, bindings, { ...compat, flags: compat.flags.filter((name) => !unknown.includes(name)) });
  }
  if (!run.verdict) {
    const detail = run.output.split("\n").find((line) => line.trim()) ?? "";
    throw new FatalError(`${label}: could not run the check in workerd: ${oneLine(run.error)}${detail ? ` (${detail.trim()})` : ""}`);
  }
  const problems = compat.flags.filter((flag) => unknown.includes(flag)).map((flag) => `${compat.where}: workerd has no compatibility flag ${show(flag)}`);
  problems.push(...run.verdict.bindingProblems);
  return { verdict: run.verdict, problems };
}

function unknownFlag(run) {
  return run.verdict ? undefined : /No such compatibility flag: (\S+)/.exec(run.output)?.[1];
}

/** One Miniflare run; workerd's own output is captured, not printed, and returned on failure. */
async function runOnce({ Miniflare }, script, bindings, compat) {
  const chunks = [];
  let mf;
  try {
    mf = new Miniflare({
      name: WORKER_NAME,
      modules: true,
      script,
      compatibilityDate: compat.date,
      compatibilityFlags: compat.flags,
      bindings: bindings.vars,
      kvNamespaces: bindings.kv,
      // Any worker will do as the origin: the parser only checks the binding is there.
      serviceBindings: Object.fromEntries(bindings.services.map((name) => [name, WORKER_NAME])),
      ratelimits: Object.fromEntries(Object.entries(bindings.ratelimits).map(([name, { limit, period }]) => [name, { simple: { limit, period } }])),
      handleRuntimeStdio: (stdout, stderr) => {
        stdout.on("data", (chunk) => chunks.push(chunk));
        stderr.on("data", (chunk) => chunks.push(chunk));
      },
    });
    const response = await mf.dispatchFetch("http://check-config.invalid/", { method: "POST", body: JSON.stringify({ ratelimits: bindings.ratelimits }) });
    const body = await response.text();
    if (!response.ok) throw new Error(`the checker answered ${response.status}: ${body}`);
    const verdict = JSON.parse(body);
    if (verdict.error) throw new Error(`parseConfig threw ${verdict.error}`);
    return { verdict };
  } catch (error) {
    // workerd may still be flushing why it stopped.
    await new Promise((resolve) => setTimeout(resolve, 50));
    return { error, output: Buffer.concat(chunks).toString("utf8") };
  } finally {
    await mf?.dispose().catch(() => {});
  }
}

async function bundleWorker(label) {
  const { build } = await import("esbuild");
  try {
    const output = await build({
      entryPoints: [WORKER_ENTRY],
      absWorkingDir: ROOT,
      bundle: true,
      write: false,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      conditions: ["workerd", "worker", "browser"],
      mainFields: ["module", "main"],
      external: ["cloudflare:*", "node:*"],
      logLevel: "silent",
    });
    return output.outputFiles[0].text;
  } catch (error) {
    const first = error.errors?.[0];
    const where = first?.location ? ` (${first.location.file}:${first.location.line})` : "";
    throw new FatalError(`${label}: could not bundle the config parser: ${first ? first.text + where : oneLine(error)}`);
  }
}

/** The date of the installed workerd (`1.20260426.1` → `2026-04-26`), for a Miniflare without `supportedCompatibilityDate`. */
function workerdDate() {
  const { version } = JSON.parse(readText(path.join(ROOT, "node_modules", "workerd", "package.json"), "node_modules/workerd/package.json"));
  const match = /^\d+\.(\d{4})(\d{2})(\d{2})/.exec(version);
  if (!match) throw new FatalError(`cannot tell the installed workerd's compatibility date from its version ${show(version)}`);
  return match.slice(1).join("-");
}

/** The path as the user would type it: relative when under the working directory. */
function showPath(file) {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : file;
}

function isTable(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function isIsoDate(text) {
  const date = new Date(`${text}T00:00:00Z`);
  return /^\d{4}-\d{2}-\d{2}$/.test(text) && !Number.isNaN(date.getTime()) && date.toISOString().startsWith(text);
}

function show(value) {
  if (value === undefined) return "nothing";
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function oneLine(error) {
  return String(error instanceof Error ? error.message : error).split("\n").find((line) => line.trim()) ?? "unknown error";
}

/** Parses the command line; throws a `TypeError` saying what is wrong with it. */
function readOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: "string" },
      env: { type: "string" },
      "dev-vars": { type: "string" },
      "secrets-from-env": { type: "boolean" },
      "no-secrets": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  const sources = ["dev-vars", "secrets-from-env", "no-secrets"].filter((name) => values[name] !== undefined);
  if (sources.length > 1) throw new TypeError(`--${sources.join(" and --")} cannot be combined`);
  if (values.env !== undefined && !values.env) throw new TypeError("--env needs a name");
  return {
    help: values.help,
    config: values.config,
    env: values.env,
    devVars: values["dev-vars"],
    secretsFromEnv: values["secrets-from-env"],
    noSecrets: values["no-secrets"],
  };
}

/** Runs the command line; resolves to the exit status. */
export async function main(argv = process.argv.slice(2)) {
  let options;
  try {
    options = readOptions(argv);
  } catch (error) {
    console.error(`check-config: ${oneLine(error)}\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  try {
    const { label, problems, summary, hints } = await checkConfig(options);
    if (problems.length === 0) {
      console.log(`${label}: OK (${summary})`);
      return 0;
    }
    const lines = [`${label}: ${problems.length} problem${problems.length === 1 ? "" : "s"}`, ...problems.map((problem) => `  - ${problem}`), ...hints.map((hint) => `  ${hint}`)];
    console.log(lines.join("\n"));
    return 1;
  } catch (error) {
    if (!(error instanceof FatalError)) throw error;
    console.error(error.message);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exitCode = await main();
}
