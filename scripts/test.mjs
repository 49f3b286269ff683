#!/usr/bin/env node
// `npm test`: the whole suite, quiet when it is green.
//
// 1. vitest inside workerd (test/**/*.test.ts), 2. node:test for what drives Node
// processes (test/node/), 3. the browser tests in Chromium (test/browser/).
// Each runner's own summary is printed; `node --test` uses the dot reporter.
//
// workerd's output is filtered of two kinds of lines that say nothing about the
// gate: `info:`-level diagnostics that @cloudflare/vitest-pool-workers makes
// workerd print (it starts it in verbose mode; a caught fetch to a closed port
// prints "uncaught exception ... Network connection lost" there, which plain
// workerd does not), and workerd's warning about non-ASCII header values,
// which the hostile-input tests send on purpose. GATE_TEST_VERBOSE=1 shows
// everything. Arguments are passed to vitest (`npm test -- test/store`), and
// then only vitest runs.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

const VERBOSE = process.env.GATE_TEST_VERBOSE === "1";
/** A line that begins one of the filtered messages; following `stack:` lines belong to it. */
const NOISE = [
  /^(exception = kj\/|uncaught exception; )/,
  /^workerd\/\S+: info: /,
  /^A header value for "[^"]+" contains non-ASCII characters/,
  /^Using (secrets|vars) defined in \.dev\.vars/,
];

/** Runs one command, copying its output line by line without the noise; resolves with its exit status. */
function run(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, FORCE_COLOR: process.stdout.isTTY ? "1" : "0" } });
    let hidden = 0;
    let inNoise = false;
    const copy = (stream, target) =>
      createInterface({ input: stream, crlfDelay: Infinity }).on("line", (line) => {
        // biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts the colour codes being removed.
        const plain = line.replace(/\x1b\[[0-9;]*m/g, "");
        inNoise = !VERBOSE && (NOISE.some((pattern) => pattern.test(plain)) || (inNoise && /^stack: /.test(plain)));
        if (inNoise) hidden += 1;
        else target.write(`${line}\n`);
      });
    copy(child.stdout, process.stdout);
    copy(child.stderr, process.stderr);
    child.on("exit", (code, signal) => {
      if (hidden > 0) console.log(`(${hidden} lines of workerd diagnostics hidden; GATE_TEST_VERBOSE=1 shows them)`);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

const extra = process.argv.slice(2);
const steps = [["npx", ["vitest", "run", ...extra]]];
if (extra.length === 0) {
  steps.push(["node", ["--test", "--test-reporter=dot", "test/node/", "test/oidc/"]]);
  steps.push(["node", ["--test", "--test-reporter=dot", "test/browser/"]]);
}
for (const [command, args] of steps) {
  console.log(`\n> ${command} ${args.join(" ")}`);
  const status = await run(command, args);
  if (status !== 0) process.exit(status);
}
