/**
 * The bindings wrangler.toml declares, read the way wrangler reads them, in
 * the shape Miniflare takes: [vars], [[kv_namespaces]], [[services]],
 * [[ratelimits]] and [[durable_objects.bindings]]; [[analytics_engine_datasets]]
 * (GATE_METRICS) only for their names: the parser does not read them.
 */
import { show } from "../config/problems";
import type { DeclaredRateLimit } from "./checker/worker";
import { entriesOf, type WorkerFields } from "./environment";
import { type Problem, problem } from "./problem";
import { isTomlTable } from "./toml";

/** A `[[kv_namespaces]]` entry. */
export interface KvBinding {
  binding: string;
  id: unknown;
  where: string;
}

/** A `[[durable_objects.bindings]]` entry. */
export interface ObjectBinding {
  name: string;
  className: unknown;
  scriptName: unknown;
  where: string;
}

/** What the Worker would be bound to, and what is wrong with the declarations. */
export interface Bindings {
  vars: Record<string, unknown>;
  kv: KvBinding[];
  services: string[];
  ratelimits: Record<string, DeclaredRateLimit>;
  objects: ObjectBinding[];
  problems: Problem[];
}

const isName = (value: unknown): value is string => typeof value === "string" && value !== "";

/** A `[[analytics_engine_datasets]]` entry: wrangler needs its `binding`; `dataset` defaults to the Worker's name. */
function namedBinding(entry: Record<string, unknown>): string | undefined {
  return isName(entry.binding) ? undefined : `.binding: expected a binding name, got ${show(entry.binding)}`;
}

/** Reads every binding declaration of the worker. */
export function readBindings(worker: WorkerFields): Bindings {
  const problems: Problem[] = [];
  const vars = readVars(worker, problems);
  const valid = (key: string, check: (entry: Record<string, unknown>) => string | undefined) =>
    entriesOf(worker, key, problems).filter(({ entry, where }) => {
      // A check answers the rest of the message: `.field: …` or `: …`.
      const wrong = check(entry);
      if (wrong) problems.push(problem(`${where}${wrong}`, `${where}${wrong.startsWith(".") ? wrong.slice(0, wrong.indexOf(":")) : ""}`, where));
      return !wrong;
    });
  const kv = valid("kv_namespaces", (entry) => (isName(entry.binding) ? undefined : `.binding: expected a binding name, got ${show(entry.binding)}`));
  const services = valid("services", (entry) =>
    isName(entry.binding) && typeof entry.service === "string"
      ? undefined
      : `: expected { binding = "NAME", service = "worker-name" }, got ${show(entry)}`,
  );
  const ratelimits = valid("ratelimits", checkRatelimit);
  const objects = readObjects(worker, problems);
  const datasets = valid("analytics_engine_datasets", namedBinding);
  if (vars.GATE_METRICS !== undefined) problems.push(metricsInVars(worker.where.vars));
  const names = {
    [worker.where.vars]: Object.keys(vars),
    [worker.where.kv_namespaces]: kv.map(({ entry }) => entry.binding as string),
    [worker.where.services]: services.map(({ entry }) => entry.binding as string),
    [worker.where.ratelimits]: ratelimits.map(({ entry }) => entry.name as string),
    [`${worker.where.durable_objects}.bindings`]: objects.map((entry) => entry.name),
    [worker.where.analytics_engine_datasets]: datasets.map(({ entry }) => entry.binding as string),
  };
  problems.push(...duplicateNames(names));
  return {
    // JSON round trip: TOML dates become text, as they do in the bindings wrangler uploads.
    vars: JSON.parse(JSON.stringify(vars)),
    kv: kv.map(({ entry, where }) => ({ binding: entry.binding as string, id: entry.id, where })),
    services: services.map(({ entry }) => entry.binding as string),
    ratelimits: Object.fromEntries(
      ratelimits.map(({ entry, where }) => [entry.name, { where, ...(entry.simple as { limit: number; period: number }) }]),
    ),
    objects,
    problems,
  };
}

function readVars({ fields, where }: WorkerFields, problems: Problem[]): Record<string, unknown> {
  const vars = fields.vars ?? {};
  if (isTomlTable(vars)) return vars;
  problems.push(problem(`${where.vars}: expected a table ([vars]), got ${show(vars)}`, where.vars));
  return {};
}

/** A `[[ratelimits]]` entry as wrangler, Miniflare and Workers Rate Limiting accept it (periods of 10 or 60 s only). */
function checkRatelimit(entry: Record<string, unknown>): string | undefined {
  if (!isName(entry.name)) return `.name: expected a binding name, got ${show(entry.name)}`;
  const simple = entry.simple;
  if (!isTomlTable(simple) || !Number.isInteger(simple.limit) || (simple.limit as number) < 1) {
    return `.simple: expected { limit = <whole number>, period = 10 | 60 }, got ${show(simple)}`;
  }
  if (simple.period !== 10 && simple.period !== 60) return `.simple.period: expected 10 or 60 (seconds), got ${show(simple.period)}`;
  // wrangler refuses the whole config without it.
  if (typeof entry.namespace_id !== "string")
    return `.namespace_id: expected a whole number in quotes, unique in your account (such as "1001"), got ${show(entry.namespace_id)}`;
  return undefined;
}

/** `[[durable_objects.bindings]]`: each needs a name and a class_name (wrangler refuses the config otherwise). */
function readObjects(worker: WorkerFields, problems: Problem[]): ObjectBinding[] {
  const section = worker.fields.durable_objects;
  const at = worker.where.durable_objects;
  if (section === undefined) return [];
  if (!isTomlTable(section)) {
    problems.push(problem(`${at}: expected a table ([[durable_objects.bindings]]), got ${show(section)}`, at));
    return [];
  }
  const entries = entriesOf({ ...worker, fields: { bindings: section.bindings }, where: { bindings: `${at}.bindings` } }, "bindings", problems);
  return entries.flatMap(({ entry, where }) => {
    if (isName(entry.name) && isName(entry.class_name))
      return [{ name: entry.name, className: entry.class_name, scriptName: entry.script_name, where }];
    problems.push(problem(`${where}: expected { name = "SESSION_OBJECTS", class_name = "GatehouseSessions" }, got ${show(entry)}`, where));
    return [];
  });
}

/** GATE_METRICS is the Analytics Engine binding; as a variable the gate refuses it (src/metrics/dataset.ts). */
function metricsInVars(at: string): Problem {
  const text = `${at}.GATE_METRICS: a variable; metrics need an Analytics Engine binding: [[analytics_engine_datasets]] binding = "GATE_METRICS"`;
  return problem(text, `${at}.GATE_METRICS`, at);
}

/** wrangler refuses a config that gives two bindings one name; Miniflare would silently keep one. */
function duplicateNames(namesByKind: Record<string, string[]>): Problem[] {
  const kinds = new Map<string, string[]>();
  for (const [kind, names] of Object.entries(namesByKind)) {
    for (const name of names) kinds.set(name, [...(kinds.get(name) ?? []), kind]);
  }
  return [...kinds]
    .filter(([, list]) => list.length > 1)
    .map(([name, list]) =>
      problem(`${name}: one binding name used ${list.length} times (${list.join(", ")})`, ...list.map((kind) => `${kind}.${name}`), ...list),
    );
}
