/** `compatibility_date` and `compatibility_flags`: what the parser runs with, and what wrangler would refuse. */
import { show } from "../config/problems";
import type { WorkerFields } from "./environment";
import { type Problem, problem } from "./problem";

/** The date and flags to run the parser with, and what is wrong with the configured ones. */
export interface Compatibility {
  problems: Problem[];
  date: string;
  flags: string[];
  /** The key path of the flags, for messages about one of them. */
  where: string;
}

/** Reads the worker's date and flags; `supported` is the installed workerd's newest date. */
export function readCompatibility({ fields, where }: WorkerFields, supported: string): Compatibility {
  const problems: Problem[] = [];
  const date = fields.compatibility_date;
  const at = where.compatibility_date;
  let runDate = supported;
  if (date === undefined) {
    problems.push(problem(`compatibility_date: missing (wrangler deploy requires one, such as "${supported}")`));
  } else if (typeof date !== "string" || !isIsoDate(date)) {
    const got = date instanceof Date ? `${show(date)} (a TOML date, not a string)` : show(date);
    problems.push(problem(`${at}: expected a date in quotes such as "${supported}", got ${got}`, at));
  } else if (date > supported) {
    const text = `${at}: "${date}" is later than the installed workerd supports ("${supported}"); use that date or earlier, or update wrangler`;
    problems.push(problem(text, at));
  } else {
    runDate = date;
  }
  let flags = fields.compatibility_flags ?? [];
  if (!Array.isArray(flags) || !flags.every((flag) => typeof flag === "string")) {
    problems.push(problem(`${where.compatibility_flags}: expected a list of strings, got ${show(flags)}`, where.compatibility_flags));
    flags = [];
  }
  return { problems, date: runDate, flags: flags as string[], where: where.compatibility_flags };
}

function isIsoDate(text: string): boolean {
  const date = new Date(`${text}T00:00:00Z`);
  return /^\d{4}-\d{2}-\d{2}$/.test(text) && !Number.isNaN(date.getTime()) && date.toISOString().startsWith(text);
}
