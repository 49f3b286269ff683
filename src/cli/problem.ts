/**
 * What the checks produce: problems that point into wrangler.toml, and the one
 * error that ends a check early (an unreadable config, a missing runtime).
 */

/** One thing wrong with a configuration: its text (`key: what is wrong`) and where wrangler.toml writes it. */
export interface Problem {
  text: string;
  /** TOML key paths, most precise first (`vars.GATE.issuer`, then `vars.GATE`): the first one the file writes gives the line. */
  at: string[];
}

/** A problem at the first of `at` that wrangler.toml writes (none: printed without a line, after the others). */
export function problem(text: string, ...at: string[]): Problem {
  return { text, at };
}

/** A failure that ends the check with one line on stderr and exit status 1. */
export class FatalError extends Error {}

/** The first non-empty line of an error's message. */
export function oneLine(error: unknown): string {
  return (
    String(error instanceof Error ? error.message : error)
      .split("\n")
      .find((line) => line.trim()) ?? "unknown error"
  );
}
