/**
 * `SESSION_STORE = "durable"` (contract §13): the SESSION_OBJECTS binding of
 * class GatehouseSessions, the migration that creates that class with SQLite
 * storage, and a `main` that exports it (wrangler refuses to bundle a Worker
 * whose Durable Object class it does not export).
 */
import { show } from "../config/problems";
import type { ObjectBinding } from "./bindings";
import type { Entry } from "./entry";
import { entriesOf, type WorkerFields } from "./environment";
import { type Problem, problem } from "./problem";

const CLASS = "GatehouseSessions";
const BINDING = "SESSION_OBJECTS";
const MIGRATION = `[[migrations]] tag = "v1" new_sqlite_classes = ["${CLASS}"]`;

/** What is wrong with the Durable Object declarations for `storeKind`. */
export function durableProblems(worker: WorkerFields, objects: ObjectBinding[], entry: Entry, storeKind: unknown): Problem[] {
  const problems: Problem[] = [];
  const own = objects.filter((binding) => binding.className === CLASS && binding.scriptName === undefined);
  if (own.length > 0 && entry.problems.length === 0 && !entry.exportsSessions) {
    const text = `${worker.where.main}: ${show(worker.fields.main)} does not export ${CLASS}, the class of ${own[0].where} (${own[0].name}), so wrangler would refuse to deploy; write export { default, ${CLASS} } from "gatehouse-edge";`;
    problems.push(problem(text, worker.where.main));
  }
  if (storeKind !== "durable") return problems;
  const binding = objects.find(({ name }) => name === BINDING);
  // Without the binding, the parser says SESSION_OBJECTS is missing.
  if (binding && binding.className !== CLASS) {
    problems.push(
      problem(`${binding.where}.class_name: expected "${CLASS}" (the gate's class), got ${show(binding.className)}`, `${binding.where}.class_name`),
    );
  }
  if (binding && binding.scriptName !== undefined) {
    const text = `${binding.where}.script_name: the gate keeps its sessions in this Worker's own ${CLASS} objects; remove script_name`;
    problems.push(problem(text, `${binding.where}.script_name`));
  }
  problems.push(...migrationProblems(worker));
  return problems;
}

/** Some migration must create the class with SQLite storage, and none may delete or rename it. */
function migrationProblems(worker: WorkerFields): Problem[] {
  const problems: Problem[] = [];
  const migrations = entriesOf(worker, "migrations", problems);
  const listing = (key: string) => migrations.find(({ entry }) => Array.isArray(entry[key]) && entry[key].includes(CLASS));
  const at = worker.where.migrations;
  if (!listing("new_sqlite_classes")) {
    const kv = listing("new_classes");
    const text = kv
      ? `${kv.where}.new_classes: ${CLASS} needs SQLite storage, and a class's storage cannot change once deployed: list it in new_sqlite_classes instead`
      : `${at}: no migration creates ${CLASS} (SESSION_STORE is "durable"): add ${MIGRATION}`;
    problems.push(problem(text, ...(kv ? [`${kv.where}.new_classes`] : [at])));
  }
  const deleted = listing("deleted_classes");
  if (deleted)
    problems.push(problem(`${deleted.where}.deleted_classes: deletes ${CLASS}, and every session with it`, `${deleted.where}.deleted_classes`));
  const renamed = migrations.find(({ entry }) => Array.isArray(entry.renamed_classes) && entry.renamed_classes.some((item) => item?.from === CLASS));
  if (renamed) {
    problems.push(
      problem(`${renamed.where}.renamed_classes: renames ${CLASS}, which the gate binds by that name`, `${renamed.where}.renamed_classes`),
    );
  }
  return problems;
}
