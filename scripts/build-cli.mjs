#!/usr/bin/env node
// The `gatehouse-edge` bin's code (scripts/build.mjs runs this after tsc; `npm run
// check-config` runs it alone, in well under a second):
// - dist/cli/gatehouse-edge.mjs: src/cli/ bundled for Node, with the parts of
//   src/config/ it shares with the gate. smol-toml stays an import (a dependency);
//   miniflare is found at run time from the user's wrangler (src/cli/runtime.ts).
// - dist/cli/check-config-worker.js: the Worker the check runs in workerd, with
//   the gate's parseConfig, prebuilt so the published bin needs no bundler.
import { build } from "esbuild";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const OUT = path.join(ROOT, "dist", "cli");
const common = { absWorkingDir: ROOT, bundle: true, format: "esm", logLevel: "warning", legalComments: "none" };

await Promise.all([
  build({
    ...common,
    entryPoints: [path.join(ROOT, "src", "cli", "main.ts")],
    outfile: path.join(OUT, "gatehouse-edge.mjs"),
    platform: "node",
    target: "node20",
    packages: "external",
  }),
  build({
    ...common,
    entryPoints: [path.join(ROOT, "src", "cli", "checker", "worker.ts")],
    outfile: path.join(OUT, "check-config-worker.js"),
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    external: ["cloudflare:*", "node:*"],
  }),
]);
