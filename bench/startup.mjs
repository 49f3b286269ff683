#!/usr/bin/env node
// Summarises a startup CPU profile from `wrangler check startup`: the total
// sampled time and the self time by the package (node_modules/<name>) or file
// it was spent in. `node bench/startup.mjs <file.cpuprofile>`.
import { readFileSync } from "node:fs";

const profile = JSON.parse(readFileSync(process.argv[2], "utf8"));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const self = new Map();
const deltas = profile.timeDeltas ?? [];
profile.samples.forEach((id, index) => {
  const node = byId.get(id);
  const url = node?.callFrame?.url ?? "";
  const where = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? (url ? url.replace(/^.*\/(src|dist)\//, "$1/") : `(${node?.callFrame?.functionName || "program"})`);
  self.set(where, (self.get(where) ?? 0) + (deltas[index] ?? 0));
});
const total = [...self.values()].reduce((a, b) => a + b, 0);
console.log(`total sampled: ${(total / 1000).toFixed(1)} ms`);
for (const [where, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${(us / 1000).toFixed(1).padStart(7)} ms  ${where}`);
