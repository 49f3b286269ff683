/**
 * `gatehouse-edge check-config`: every problem of a wrangler.toml (and its
 * secrets) without starting the gate, so CI can refuse a deploy the gate would
 * answer with 500 `misconfigured` (contract §1, §8).
 *
 * The gate's own `parseConfig` runs inside workerd (via Miniflare) on bindings
 * built the way wrangler builds them, so this check and the deployed gate
 * cannot disagree. Around it, this adds what only wrangler.toml shows: `main`,
 * `compatibility_date`, binding declarations, Durable Object migrations,
 * secrets written in [vars], and with `--deploy` what production would regret.
 */
import path from "node:path";
import { readBindings } from "./bindings";
import { readCompatibility } from "./compat";
import { deployHazards } from "./deploy";
import { durableProblems } from "./durable";
import { readEntry } from "./entry";
import { selectEnvironment } from "./environment";
import { child, parent } from "./locate";
import { showPath } from "./paths";
import { type Problem, problem } from "./problem";
import { placeProblems, type Report } from "./report";
import { loadRuntime } from "./runtime";
import { loadSecrets, PLACEHOLDER_SECRETS, type Secrets, secretsInVars } from "./secrets";
import { readToml } from "./toml";
import { runParser } from "./workerd";

/** What to check, from the command line. */
export interface CheckOptions {
  config?: string;
  env?: string;
  devVars?: string;
  secretsFromEnv?: boolean;
  noSecrets?: boolean;
  deploy?: boolean;
}

const MISSING_SECRET = /^(GATE_SECRET|GATE_ORIGIN_SECRET|UPSTASH_REDIS_REST_URL|UPSTASH_REDIS_REST_TOKEN): /;

/** Checks one configuration; no problems means the gate would start with it. Throws `FatalError`. */
export async function checkConfig(options: CheckOptions): Promise<Report> {
  const configPath = path.resolve(options.config ?? "wrangler.toml");
  const file = showPath(configPath);
  const label = file + (options.env ? ` [env.${options.env}]` : "");
  const toml = readToml(configPath, label);
  const worker = selectEnvironment(toml.values, options.env, label);
  // --deploy reads no .dev.vars: its values are for development (the secrets are judged by deployHazards).
  const skip = options.noSecrets || (options.deploy && !options.secretsFromEnv);
  const secrets = loadSecrets({ ...options, skip }, configPath, worker.fields.secrets);
  const bindings = readBindings(worker);
  const entry = readEntry(worker, path.dirname(configPath));
  const runtime = await loadRuntime(path.dirname(configPath));
  const compat = readCompatibility(worker, runtime.supportedDate);
  const vars = secrets.skipped ? { ...PLACEHOLDER_SECRETS, ...bindings.vars } : { ...bindings.vars, ...secrets.values };
  const { verdict, refused } = await runParser(runtime, { ...bindings, vars }, compat, entry.mode, label);
  const storeKind = String(bindings.vars.SESSION_STORE || "kv");
  const problems: Problem[] = [
    ...worker.problems,
    ...entry.problems,
    ...compat.problems,
    ...bindings.problems,
    ...secretsInVars(bindings.vars, worker.where.vars),
    ...durableProblems(worker, bindings.objects, entry, storeKind),
    ...refused.map((text) => problem(text, compat.where)),
    ...verdict.bindingProblems.map((text) => problem(text, keyOf(text))),
    ...("problems" in verdict ? verdict.problems.map((text) => fromParser(text, worker.where.vars)) : []),
    ...(options.deploy ? deployHazards({ worker, bindings, entry, secrets, storeKind }) : []),
  ];
  const placed = placeProblems(problems, toml.locations);
  return { label, file, problems: placed, summary: summary(verdict, secrets, options), hints: hints(placed, secrets, file) };
}

function keyOf(text: string): string {
  return text.slice(0, text.indexOf(": "));
}

/**
 * A message of the parser, at its key under [vars] (`GATE.routes[2].path` is
 * `vars.GATE.routes[2].path`). A key inside GATE that the file does not write
 * (a default that is wrong with another value) points at its table instead.
 */
function fromParser(text: string, vars: string): Problem {
  const at = [child(vars, keyOf(text))];
  for (let up = parent(at[0]); up?.startsWith(`${vars}.GATE`); up = parent(up)) at.push(up);
  return problem(text, ...at);
}

function summary(verdict: { ok: boolean; routes?: number; store?: string }, secrets: Secrets, options: CheckOptions): string {
  if (!verdict.ok) return "";
  const routes = `${verdict.routes} route${verdict.routes === 1 ? "" : "s"}, store ${verdict.store}`;
  if (!secrets.skipped) return routes;
  return `${routes}; secrets ${options.deploy ? "required in wrangler.toml, not read" : "not checked"}`;
}

function hints(problems: { text: string }[], secrets: Secrets, file: string): string[] {
  if (secrets.source || secrets.skipped || !problems.some(({ text }) => MISSING_SECRET.test(text))) return [];
  return [`(no .dev.vars or .env next to ${file}: create one for development; in CI use --secrets-from-env or --no-secrets)`];
}
