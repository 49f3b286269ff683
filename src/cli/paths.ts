/**
 * Where things are: the package this CLI belongs to (found from the bundle's
 * own location, dist/cli/), and files as the user would type them.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { FatalError } from "./problem";

/** dist/cli/, where the bundled CLI and the prebuilt checker Worker live. */
export const CLI_DIR = path.dirname(fileURLToPath(import.meta.url));
/** The gatehouse-edge package (or this repository, in a source checkout). */
export const PACKAGE_ROOT = path.resolve(CLI_DIR, "..", "..");
/** The package's Worker entries: what `main` may name directly instead of a file that imports the package. */
export const PACKAGE_ENTRIES = ["src/index.ts", "dist/index.js"].map((file) => path.join(PACKAGE_ROOT, file));

/** The path as the user would type it: relative when under the working directory. */
export function showPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : file;
}

/** A file's text, or a {@link FatalError} naming it as `shown`. */
export function readText(file: string, shown = showPath(file)): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new FatalError(`${shown}: cannot read it (${code === "ENOENT" ? "no such file" : (error as Error).message})`);
  }
}
