#!/usr/bin/env node
// The `gatehouse-edge` command (contract §8). Its code is bundled into dist/cli/
// by `npm run build` (which `npm pack` runs), so nothing is compiled here.
import { existsSync } from "node:fs";

const cli = new URL("../dist/cli/gatehouse-edge.mjs", import.meta.url);
if (!existsSync(cli)) {
  console.error("gatehouse-edge: dist/cli/gatehouse-edge.mjs is missing; in a source checkout, run npm run build first");
  process.exit(1);
}
const { main } = await import(cli.href);
process.exitCode = await main(process.argv.slice(2));
