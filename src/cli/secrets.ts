/**
 * The secrets the gate would receive: from .dev.vars (found the way `wrangler
 * dev` finds it), from the process environment (CI), or placeholders when
 * they are not checked; and the secrets that must never be written in
 * wrangler.toml.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import * as util from "node:util";
import { isTable } from "../config/problems";
import { readText, showPath } from "./paths";
import { FatalError, type Problem, problem } from "./problem";

/** Secrets the gate reads (contract §1), besides each OIDC provider's client secret. */
const SECRET_NAMES = ["GATE_SECRET", "GATE_ORIGIN_SECRET", "GATE_ADMIN_TOKEN", "UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN"];
const OIDC_SECRET = /^GATE_OIDC_[A-Z0-9_]+_CLIENT_SECRET$/;
/** Secrets that must never be written in wrangler.toml, which is committed with the code. */
const NEVER_IN_VARS = ["GATE_SECRET", "GATE_ORIGIN_SECRET", "GATE_ADMIN_TOKEN", "UPSTASH_REDIS_REST_TOKEN"];
/** Values that pass every secret check, so that only the rest is judged when secrets are not read. */
export const PLACEHOLDER_SECRETS = {
  GATE_SECRET: "check-config placeholder: not a real secret 0123456789",
  GATE_ORIGIN_SECRET: "check-config placeholder: not a real secret 0123456789",
  UPSTASH_REDIS_REST_URL: "https://placeholder.upstash.io",
  UPSTASH_REDIS_REST_TOKEN: "check-config placeholder",
};

/** Where the secrets come from. */
export interface SecretSourceOptions {
  devVars?: string;
  secretsFromEnv?: boolean;
  /** Secrets are not read (`--no-secrets`, or `--deploy` without `--secrets-from-env`). */
  skip?: boolean;
  env?: string;
  /** Checking for production, where every secret put with `wrangler secret put` is bound. */
  deploy?: boolean;
}

/** The secrets found: `source` is the file (or `process.env`) they came from; `skipped` when none were read. */
export interface Secrets {
  source?: string;
  values: Record<string, string>;
  skipped: boolean;
}

/** A name the gate reads as a secret. */
export function isSecretName(name: string): boolean {
  return SECRET_NAMES.includes(name) || OIDC_SECRET.test(name);
}

/** Loads the secrets for a config at `configPath`; `declaration` is its `secrets` table, if any. */
export function loadSecrets(options: SecretSourceOptions, configPath: string, declaration: unknown): Secrets {
  if (options.skip) return { values: {}, skipped: true };
  let loaded: Secrets;
  if (options.secretsFromEnv) {
    const names = Object.keys(process.env).filter(isSecretName);
    loaded = { source: "process.env", values: Object.fromEntries(names.map((name) => [name, process.env[name] as string])), skipped: false };
  } else if (options.devVars) {
    const file = path.resolve(options.devVars);
    loaded = { source: options.devVars, values: readDotenv(readText(file)), skipped: false };
  } else {
    loaded = findSecretFiles(path.dirname(configPath), options.env);
  }
  // With `secrets = { required = [...] }` in wrangler.toml, `wrangler dev` binds only those names.
  const required = isTable(declaration) && Array.isArray(declaration.required) ? (declaration.required as unknown[]) : undefined;
  if (required && !options.deploy) loaded.values = Object.fromEntries(Object.entries(loaded.values).filter(([name]) => required.includes(name)));
  return loaded;
}

/** `.dev.vars.<env>`, then `.dev.vars`, then the .env files, as `wrangler dev` looks for them. */
function findSecretFiles(dir: string, envName: string | undefined): Secrets {
  const devVars = [...(envName ? [`.dev.vars.${envName}`] : []), ".dev.vars"].map((name) => path.join(dir, name)).find((file) => existsSync(file));
  if (devVars) return { source: devVars, values: readDotenv(readText(devVars)), skipped: false };
  // wrangler reads .env files only when there is no .dev.vars; later files override earlier ones.
  const names = [".env", ".env.local", ...(envName ? [`.env.${envName}`, `.env.${envName}.local`] : [])];
  const files = names.map((name) => path.join(dir, name)).filter((file) => existsSync(file));
  return { source: files[0] && showPath(files[0]), values: Object.assign({}, ...files.map((file) => readDotenv(readText(file)))), skipped: false };
}

/**
 * Reads `KEY=VALUE` lines with Node's own `util.parseEnv` (Node ≥ 20.12).
 * wrangler uses the `dotenv` package (plus `dotenv-expand` for .env files,
 * not .dev.vars). They agree on every fixture and on the usual forms:
 * `export`, single, double and back quotes, `\n` in double quotes, `#`
 * comments, multi-line quoted values, CRLF. They differ on rare ones:
 * - `KEY: value` (YAML style): dotenv reads it, Node ignores the line;
 * - `\r` in double quotes: dotenv makes it a carriage return, Node keeps it;
 * - `"a\"b"`: dotenv keeps `a\"b`, Node ends the value at the backslash;
 * - `${OTHER}` in a .env file: wrangler expands it, Node does not;
 * - a line without `=`: dotenv skips it, Node glues it to the next key
 *   (`NOTE\nGATE_SECRET`). That one would hide a secret, so a key is cut
 *   to its last line here (and trimmed: `export  KEY` gives " KEY" in Node).
 */
export function readDotenv(text: string): Record<string, string> {
  if (typeof util.parseEnv !== "function") throw new FatalError(`reading .dev.vars needs Node 20.12 or later (this is ${process.version})`);
  const parsed = util.parseEnv(text) as Record<string, string>;
  return Object.fromEntries(Object.entries(parsed).map(([key, value]) => [key.slice(key.lastIndexOf("\n") + 1).trim(), value]));
}

/** Secrets written in [vars] (`where` is its key path): wrangler.toml is committed with the code. */
export function secretsInVars(vars: Record<string, unknown>, where: string): Problem[] {
  const names = Object.keys(vars).filter((name) => NEVER_IN_VARS.includes(name) || OIDC_SECRET.test(name));
  const advice = (name: string) => `use \`wrangler secret put ${name}\` (or .dev.vars in development)`;
  return names.map((name) =>
    problem(`${where}.${name}: is a secret; wrangler.toml is committed with the code, so ${advice(name)}`, `${where}.${name}`),
  );
}
