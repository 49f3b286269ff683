/**
 * The `gatehouse-edge` command (contract §8), bundled for Node into
 * dist/cli/gatehouse-edge.mjs by scripts/build-cli.mjs; bin/gatehouse-edge.mjs
 * runs {@link main}. `readDotenv` is exported for the tests.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { readCommand, UsageError } from "./args";
import { checkConfig } from "./check";
import { PACKAGE_ROOT } from "./paths";
import { FatalError } from "./problem";
import { formatReport } from "./report";

export { readDotenv } from "./secrets";

/** Runs the command line `argv` (without node and the script); resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  let command: ReturnType<typeof readCommand>;
  try {
    command = readCommand(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.command}: ${error.message}\n${error.usage}`);
    return 2;
  }
  if (command.kind === "help") console.log(command.text);
  if (command.kind === "version") console.log(JSON.parse(readFileSync(path.join(PACKAGE_ROOT, "package.json"), "utf8")).version);
  if (command.kind !== "check-config") return 0;
  try {
    const { text, status } = formatReport(await checkConfig(command.options));
    console.log(text);
    return status;
  } catch (error) {
    if (!(error instanceof FatalError)) throw error;
    console.error(error.message);
    return 1;
  }
}
