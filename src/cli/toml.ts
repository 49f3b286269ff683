/**
 * Reading wrangler.toml: its values (smol-toml) and the line of each key
 * (./locate.ts), or one line saying why it cannot be read.
 */
import { parse } from "smol-toml";
import { isTable } from "../config/problems";
import { type Locations, locate } from "./locate";
import { readText } from "./paths";
import { FatalError } from "./problem";

/** A parsed wrangler.toml. */
export interface TomlFile {
  values: Record<string, unknown>;
  locations: Locations;
}

/** Reads and parses `file`; a syntax error keeps smol-toml's line and column. */
export function readToml(file: string, label: string): TomlFile {
  const text = readText(file, label);
  let values: Record<string, unknown>;
  try {
    values = parse(text);
  } catch (error) {
    const { message, line, column } = error as Error & { line?: number; column?: number };
    const reason = String(message)
      .split("\n")[0]
      .replace(/^Invalid TOML document: /, "");
    throw new FatalError(`${label}: not valid TOML: ${reason}${line ? ` (line ${line}, column ${column})` : ""}`);
  }
  return { values, locations: locate(text) };
}

/** A TOML table: {@link isTable}, less TOML's dates (smol-toml's `TomlDate` is an object too). */
export function isTomlTable(value: unknown): value is Record<string, unknown> {
  return isTable(value) && !(value instanceof Date);
}
