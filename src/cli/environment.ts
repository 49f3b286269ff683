/**
 * The fields `wrangler deploy [--env NAME]` would use, with wrangler's rules for
 * environments: some top-level keys are inherited, bindings are not (wrangler
 * only warns, and the Worker runs without them).
 */
import { show } from "../config/problems";
import { FatalError, type Problem, problem } from "./problem";
import { isTomlTable } from "./toml";

/** wrangler copies these from the top level into an environment that does not set them. */
const INHERITED = ["main", "compatibility_date", "compatibility_flags", "migrations", "triggers"];
/** wrangler does NOT inherit these: an environment has only its own (its config's `notInheritable`). */
const NOT_INHERITED = ["vars", "kv_namespaces", "services", "ratelimits", "durable_objects", "analytics_engine_datasets", "secrets"];

/** The fields of one Worker, and for each the key path wrangler.toml writes it at (`env.staging.vars` or `vars`). */
export interface WorkerFields {
  fields: Record<string, unknown>;
  where: Record<string, string>;
  problems: Problem[];
}

/** The top level, or `[env.<name>]` with what it inherits; throws {@link FatalError} for an undefined environment. */
export function selectEnvironment(raw: Record<string, unknown>, envName: string | undefined, label: string): WorkerFields {
  const fields: Record<string, unknown> = {};
  const where: Record<string, string> = {};
  const problems: Problem[] = [];
  if (envName === undefined) {
    for (const key of [...INHERITED, ...NOT_INHERITED]) [fields[key], where[key]] = [raw[key], key];
    return { fields, where, problems };
  }
  const section = isTomlTable(raw.env) ? raw.env[envName] : undefined;
  if (!isTomlTable(section)) {
    const defined = isTomlTable(raw.env) ? Object.keys(raw.env) : [];
    throw new FatalError(`${label}: no [env.${envName}] section (${defined.length ? `defined: ${defined.join(", ")}` : "none defined"})`);
  }
  for (const key of INHERITED) {
    const own = section[key] !== undefined;
    [fields[key], where[key]] = [own ? section[key] : raw[key], own ? `env.${envName}.${key}` : key];
  }
  for (const key of NOT_INHERITED) {
    [fields[key], where[key]] = [section[key], `env.${envName}.${key}`];
    if (section[key] === undefined && raw[key] !== undefined) {
      const text = `env.${envName}.${key}: missing; wrangler does not inherit the top-level ${key} into environments, so the gate would run without it (copy it under [env.${envName}])`;
      problems.push(problem(text, `env.${envName}`, key));
    }
  }
  return { fields, where, problems };
}

/** The entries of a `[[key]]` list, each with its path; what is not a table is reported. */
export function entriesOf(worker: WorkerFields, key: string, problems: Problem[]): { entry: Record<string, unknown>; where: string }[] {
  const list = worker.fields[key] ?? [];
  const at = worker.where[key];
  if (!Array.isArray(list)) {
    problems.push(problem(`${at}: expected a list of tables ([[${key}]]), got ${show(list)}`, at));
    return [];
  }
  return list.flatMap((entry, index) => {
    if (isTomlTable(entry)) return [{ entry, where: `${at}[${index}]` }];
    problems.push(problem(`${at}[${index}]: expected a table, got ${show(entry)}`, `${at}[${index}]`));
    return [];
  });
}
