/** A duration as written in the `GATE` table: a whole number and one unit, e.g. `"30s"`, `"15m"`, `"12h"`, `"7d"`. */
export type Duration = `${number}${"s" | "m" | "h" | "d"}`;

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d{1,9})([smhd])$/;

/** The expected form, quoted in every validation message about a duration. */
export const DURATION_FORM = 'a duration such as "30s", "15m", "12h" or "7d"';

/**
 * Parses a duration into milliseconds, or returns `undefined` when the value is
 * not of the form `<digits><s|m|h|d>`. Parsing lives here only, so every key
 * that takes a duration accepts exactly the same spellings.
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const match = DURATION.exec(value);
  if (!match) return undefined;
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}
