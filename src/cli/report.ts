/**
 * The report: problems in the order wrangler.toml writes them, each with its
 * line (`wrangler.toml:27: GATE.session.idle_timout: unknown key: …`); those
 * the file does not write (secrets, absent keys) come after, without one.
 */
import type { Locations } from "./locate";
import type { Problem } from "./problem";

/** A problem with its line in wrangler.toml, when it has one. */
export interface PlacedProblem {
  text: string;
  line?: number;
}

/** The outcome of one check. */
export interface Report {
  /** The config as named in the report (`wrangler.toml [env.staging]`). */
  label: string;
  /** The config file as the user would type its path, for `file:line`. */
  file: string;
  problems: PlacedProblem[];
  /** For a valid config: `3 routes, store kv`. */
  summary: string;
  hints: string[];
}

/** Each problem at the line of the first of its key paths the file writes, in file order; the others after, as found. */
export function placeProblems(problems: Problem[], locations: Locations): PlacedProblem[] {
  const placed = problems.map(({ text, at }) => ({ text, line: at.map((key) => locations.get(key)).find((line) => line !== undefined) }));
  const seen = new Set<string>();
  const unique = placed.filter(({ text }) => !seen.has(text) && seen.add(text));
  // Array.prototype.sort is stable: problems on one line keep the order they were found in.
  return unique.sort((a, b) => (a.line ?? Number.POSITIVE_INFINITY) - (b.line ?? Number.POSITIVE_INFINITY) || 0);
}

/** The report as printed on stdout, and the exit status. */
export function formatReport({ label, file, problems, summary, hints }: Report): { text: string; status: number } {
  if (problems.length === 0) return { text: `${label}: OK (${summary})`, status: 0 };
  const lines = [
    `${label}: ${problems.length} problem${problems.length === 1 ? "" : "s"}`,
    ...problems.map(({ text, line }) => `  - ${line === undefined ? "" : `${file}:${line}: `}${text}`),
    ...hints.map((hint) => `  ${hint}`),
  ];
  return { text: lines.join("\n"), status: 1 };
}
