#!/usr/bin/env node
// The package as a user gets it (contract §8): packs this repository, installs
// the tarball into a copy of examples/starter/, and checks what a user would do
// first, so a broken exports map, a missing file or a wrong "types" path fails
// CI, not a user:
//
//   pack        npm pack (prepack builds dist/); size and file count
//   files       the tarball's file list against an allow list; every target of
//               main, types, exports and bin present
//   install     npm install <tarball> and the starter's devDependencies,
//               from the npm cache when it can (--prefer-offline)
//   exports     Node resolves each subpath from the starter; signLogin imports
//   types       tsc --noEmit on the starter, plus a probe: no entry point is `any`
//   dry-run     wrangler deploy --dry-run bundles the Worker
//   bin         gatehouse-edge check-config (skipped only while the package has no bin file)
//   round trip  wrangler dev (local, offline) in front of a tiny Node origin:
//               login, whoami, /_gate/session, logout, whoami refused
//
// Quiet when green: one line per step. On a failure, the failing step's output
// is printed and the exit status is 1. Every child runs in its own process
// group (lib/starter-children.mjs), killed at the end, and the temporary
// directory is removed, also on failure or a signal (STARTER_CHECK_KEEP=1
// keeps it, for a look). Side effect: `npm pack` rebuilds dist/.
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { constants, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { waitForGate, wranglerDev } from "./lib/dev-stack.mjs";
import { StepError, createChildren } from "./lib/starter-children.mjs";
import { BIN_FILE, TYPES_PROBE, importInstalled, packageProblems, satisfiesCaret, schemaProblems } from "./lib/starter-package.mjs";
import { freePort, loginRoundTrip, startOrigin } from "./lib/starter-round-trip.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const STARTER = path.join(ROOT, "examples", "starter");
const SECRETS = ["GATE_SECRET", "GATE_ORIGIN_SECRET", "GATE_ADMIN_TOKEN"];
const STEP_TIMEOUT_MS = 120_000;
const OUTPUT_LINES = 200;
/** What the starter leaves for its user to fill in before a deploy (examples/starter/wrangler.toml). */
const DEPLOY_PLACEHOLDERS = ["ORIGIN_URL", "GATE.public_origin", "GATE.issuer", "kv_namespaces[0].id"];

const work = mkdtempSync(path.join(tmpdir(), "gatehouse-starter-"));
const copy = path.join(work, "starter");
const secrets = Object.fromEntries(SECRETS.map((name) => [name, randomBytes(32).toString("base64url")]));
/** The environment of every child: no secrets from the caller, no telemetry, no update checks, no prompts. */
const childEnv = {
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !SECRETS.includes(name) && !name.startsWith("UPSTASH_"))),
  ...wranglerDev(0).env,
  npm_config_update_notifier: "false",
  FORCE_COLOR: "0",
};
const { start, run, stopAll } = createChildren({ cwd: copy, env: childEnv, timeoutMs: STEP_TIMEOUT_MS });
const cleanups = [];

let cleaning;

/** Stops every child still running, then runs the cleanups and removes the temporary directory; once, whoever asks first. */
function cleanUp() {
  cleaning ??= (async () => {
    await stopAll();
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    if (process.env.STARTER_CHECK_KEEP === "1") console.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  })();
  return cleaning;
}

const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
const bin = (name) => path.join(copy, "node_modules", ".bin", name);
const context = {};

const steps = {
  async pack() {
    mkdirSync(path.join(work, "pack"));
    const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", path.join(work, "pack")], { cwd: ROOT });
    const [packed] = JSON.parse(stdout);
    Object.assign(context, { packed, files: packed.files.map((file) => file.path), tarball: path.join(work, "pack", packed.filename) });
    return `${packed.filename}: ${kib(packed.size)}, ${packed.entryCount} files (${kib(packed.unpackedSize)} unpacked)`;
  },
  async files() {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));
    const problems = packageProblems(pkg, context.files);
    if (problems.length > 0) throw new StepError(`${problems.length} problem${problems.length === 1 ? "" : "s"} in the tarball`, problems.join("\n"));
    const targets = context.files.includes(BIN_FILE) ? "main, types, exports and bin" : "main, types and exports";
    return `${context.files.length} files, all allowed; the ${targets} targets present`;
  },
  async install() {
    // What a user's clone of the starter holds: none of a local `npm install` or `npm run dev` of it.
    const filter = (source) => !/(^|[/\\])(node_modules|\.wrangler|\.dev\.vars|package-lock\.json)$/.test(path.relative(STARTER, source));
    cpSync(STARTER, copy, { recursive: true, filter });
    const range = JSON.parse(readFileSync(path.join(copy, "package.json"), "utf8")).dependencies?.["gatehouse-edge"];
    if (!satisfiesCaret(range, context.packed.version)) {
      throw new StepError(`examples/starter/package.json asks for gatehouse-edge ${range}, which ${context.packed.version} does not satisfy`);
    }
    await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", context.tarball]);
    const installed = JSON.parse(readFileSync(path.join(copy, "node_modules", "gatehouse-edge", "package.json"), "utf8"));
    if (installed.version !== context.packed.version) {
      throw new StepError(`installed gatehouse-edge ${installed.version}, packed ${context.packed.version}`);
    }
    return `gatehouse-edge ${range} → the tarball, plus the starter's devDependencies`;
  },
  async exports() {
    const probe = await importInstalled(copy);
    const problems = [...probe.resolved.filter((entry) => entry.error).map((entry) => `${entry.name}: ${entry.error}`), ...schemaProblems(copy)];
    if (problems.length > 0) throw new StepError("an entry point or schema file does not resolve from the starter", problems.join("\n"));
    if (typeof probe.signLogin !== "function") throw new StepError("gatehouse-edge/origin has no signLogin function");
    context.signLogin = probe.signLogin;
    return `${probe.resolved.map((entry) => entry.name.replace("gatehouse-edge", "") || ".").join(", ")} resolve; signLogin imports; the #:schema files and their $refs exist`;
  },
  async types() {
    writeFileSync(path.join(copy, "src", "package-probe.ts"), TYPES_PROBE);
    await run(bin("tsc"), ["--noEmit", "-p", copy]).catch((error) => {
      // TS2578, an unused @ts-expect-error: the probe's way of saying an export is `any`.
      const hint = error.output.includes("TS2578") ? " (an unused @ts-expect-error in src/package-probe.ts: that export has no types)" : "";
      throw new StepError(error.message + hint, error.output);
    });
    return "tsc --noEmit: src/index.ts and a probe of every entry point";
  },
  async "dry-run"() {
    const outdir = path.join(work, "bundle");
    await run(bin("wrangler"), ["deploy", "--dry-run", "--outdir", outdir]);
    const bundle = path.join(outdir, "index.js");
    if (!existsSync(bundle)) throw new StepError(`wrangler deploy --dry-run wrote no ${bundle}`);
    return `bundle index.js ${kib(statSync(bundle).size)} (${kib(gzipSync(readFileSync(bundle)).length)} gzip)`;
  },
  async bin() {
    if (!context.files.includes(BIN_FILE)) return { skipped: `no bin (${BIN_FILE} is not in the package)` };
    await run("npx", ["--no", "gatehouse-edge", "check-config", "--secrets-from-env"], { env: secrets });
    // `npm run check` (--deploy) must refuse the starter as shipped for its placeholders, and for nothing else.
    const { output } = await run("npm", ["run", "--silent", "check"], { accept: [1] });
    const problems = output.split("\n").filter((line) => /^\s+- /.test(line));
    const missing = DEPLOY_PLACEHOLDERS.filter((key) => !problems.some((line) => line.includes(key)));
    const unexpected = problems.filter((line) => !DEPLOY_PLACEHOLDERS.some((key) => line.includes(key)));
    if (missing.length > 0 || unexpected.length > 0) {
      const wrong = [...missing.map((key) => `not refused: ${key}`), ...unexpected.map((line) => `unexpected: ${line.trim()}`)];
      throw new StepError(
        "npm run check (check-config --deploy) does not refuse exactly the starter's placeholders",
        `${wrong.join("\n")}\n\n${output}`,
      );
    }
    return `check-config passes; npm run check (--deploy) refuses the ${problems.length} placeholder problems, nothing else`;
  },
  async "round trip"() {
    const [gatePort, originPort] = [await freePort(), await freePort()];
    const origin = await startOrigin(originPort, secrets.GATE_ORIGIN_SECRET, context.signLogin);
    cleanups.push(origin.close);
    writeFileSync(path.join(copy, ".dev.vars"), `${SECRETS.map((name) => `${name}=${secrets[name]}`).join("\n")}\n`, { mode: 0o600 });
    const { args } = wranglerDev(gatePort, ["--var", `ORIGIN_URL:http://127.0.0.1:${originPort}`]);
    const dev = start(bin("wrangler"), args);
    let exited = false;
    dev.done.then(() => (exited = true));
    const state = await waitForGate(gatePort, () => exited);
    if (state !== "ready") throw new StepError(`wrangler dev: ${exited ? "exited" : state}`, dev.output);
    try {
      return await loginRoundTrip(gatePort, origin);
    } catch (error) {
      throw new StepError(error.message, dev.output);
    }
  },
};

/** Prints the last lines of a failed step's output. */
function printOutput(output) {
  const lines = output.trimEnd().split("\n");
  if (lines.length > OUTPUT_LINES) console.log(`  … (${lines.length - OUTPUT_LINES} earlier lines)`);
  for (const line of lines.slice(-OUTPUT_LINES)) console.log(`  | ${line}`);
}

async function main() {
  const began = Date.now();
  console.log(`starter check: examples/starter with this repository packed (${work})`);
  for (const [name, step] of Object.entries(steps)) {
    const at = Date.now();
    const seconds = () => `${((Date.now() - at) / 1_000).toFixed(1)}s`.padStart(6);
    try {
      const result = await step();
      if (result?.skipped) console.log(`  skip  ${name.padEnd(10)} ${seconds()}  skipped: ${result.skipped}`);
      else console.log(`  ok    ${name.padEnd(10)} ${seconds()}  ${result}`);
    } catch (error) {
      console.log(`  FAIL  ${name.padEnd(10)} ${seconds()}  ${error.message}`);
      if (error.output) printOutput(error.output);
      return 1;
    }
  }
  console.log(`starter check passed in ${((Date.now() - began) / 1_000).toFixed(1)}s`);
  return 0;
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => cleanUp().finally(() => process.exit(128 + constants.signals[signal])));
}
const status = await main().catch((error) => {
  console.error(error);
  return 1;
});
await cleanUp();
process.exit(status);
