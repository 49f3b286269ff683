#!/usr/bin/env node
// `npm run schema`: writes what is generated from the config schema
// (src/config/schema/gate.ts): schema.json (the GATE table, published),
// wrangler.schema.json (wrangler.toml with GATE, published: its $ref points at
// ../wrangler/config-schema.json, next to it in node_modules),
// schema/wrangler.json (the same for this repository's own wrangler.toml) and
// src/config/gate-config.ts (the GateConfig type). `--check` only compares.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const bundled = await build({
  entryPoints: [path.join(ROOT, "src/config/schema/emit.ts")],
  bundle: true,
  write: false,
  format: "esm",
  platform: "neutral",
  logLevel: "silent",
});
const emit = await import(`data:text/javascript;base64,${Buffer.from(bundled.outputFiles[0].text).toString("base64")}`);
const json = (value) => `${JSON.stringify(value, null, 2)}\n`;
const files = {
  "schema.json": json(emit.gateJsonSchema()),
  "wrangler.schema.json": json(emit.wranglerJsonSchema("../wrangler/config-schema.json", "./schema.json")),
  "schema/wrangler.json": json(emit.wranglerJsonSchema("../node_modules/wrangler/config-schema.json", "../schema.json")),
  "src/config/gate-config.ts": emit.gateConfigSource(),
};
const check = process.argv.includes("--check");
let stale = 0;
for (const [file, text] of Object.entries(files)) {
  const target = path.join(ROOT, file);
  let current = "";
  try {
    current = readFileSync(target, "utf8");
  } catch {}
  if (current === text) continue;
  if (check) {
    console.error(`${file} is out of date: run npm run schema`);
    stale += 1;
  } else {
    writeFileSync(target, text);
    console.log(`wrote ${file}`);
  }
}
process.exit(stale > 0 ? 1 : 0);
