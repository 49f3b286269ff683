#!/usr/bin/env node
// `npm run build` (and `npm pack`'s prepack): the package's dist/.
// 1. tsc compiles src/ to ES modules with declarations (tsconfig.build.json);
//    wrangler bundles them in the user's Worker, so imports stay extensionless
//    and the Upstash code stays behind its dynamic import.
// 2. the CLI (src/cli/) is bundled for Node by esbuild, with the config
//    checker's Worker prebuilt beside it, so `gatehouse-edge check-config`
//    needs no bundler at run time.
import { execFileSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => path.join(ROOT, "node_modules", ".bin", name);

rmSync(path.join(ROOT, "dist"), { recursive: true, force: true });
execFileSync(bin("tsc"), ["-p", path.join(ROOT, "tsconfig.build.json")], { stdio: "inherit" });
if (existsSync(path.join(ROOT, "scripts", "build-cli.mjs"))) {
  execFileSync(process.execPath, [path.join(ROOT, "scripts", "build-cli.mjs")], { stdio: "inherit" });
}
