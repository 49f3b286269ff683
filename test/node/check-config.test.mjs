// `npm run check-config` end to end: the real script, the real parser in workerd.
// Runs under node:test (`node --test test/node/`), not vitest: it drives Node
// child processes, and each run starts its own workerd (about a second).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parseDotenv } from "../../scripts/check-config.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const SCRIPT = path.join(ROOT, "scripts", "check-config.mjs");
const FIXTURES = "test/fixtures";
const SECRET_NAMES = ["GATE_SECRET", "GATE_ORIGIN_SECRET", "GATE_ADMIN_TOKEN", "UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN"];
const OK = /^wrangler\.toml: OK \(\d+ routes?, store kv\)\n$/;

const scratch = mkdtempSync(path.join(tmpdir(), "check-config-test-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A new directory under the scratch one (names are unique per test), holding `files` (name → text). */
function directory(name, files = {}) {
  const dir = path.join(scratch, name);
  mkdirSync(dir);
  for (const [file, text] of Object.entries(files)) writeFileSync(path.join(dir, file), text);
  return dir;
}

function secret() {
  return randomBytes(32).toString("base64url");
}

function devVars() {
  return `GATE_SECRET=${secret()}\nGATE_ORIGIN_SECRET="${secret()}" # quoted, with a comment\n`;
}

/** Runs the script; never rejects. Secrets in the caller's environment are not passed on. */
function run(args, { cwd = ROOT, env = {} } = {}) {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !SECRET_NAMES.includes(name)));
  return new Promise((resolve) => {
    execFile(process.execPath, [SCRIPT, ...args], { cwd, env: { ...inherited, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? error.code : 0, stdout, stderr });
    });
  });
}

/** The problem lines of a report, after checking its first line counts them. */
function problemLines(result, label) {
  const [header, ...rest] = result.stdout.trimEnd().split("\n");
  const problems = rest.filter((line) => line.startsWith("  - "));
  assert.equal(header, `${label}: ${problems.length} problem${problems.length === 1 ? "" : "s"}`, result.stdout);
  return problems;
}

/** Asserts each expected line starts one of the problem lines. */
function assertReports(problems, expected) {
  for (const line of expected) {
    assert.ok(problems.some((problem) => problem.startsWith(`  - ${line}`)), `missing "${line}" in:\n${problems.join("\n")}`);
  }
}

describe("npm run check-config on the repository's wrangler.toml", { concurrency: 2 }, () => {
  it("passes with the secrets in a .dev.vars", async () => {
    const dir = directory("repo-with-dev-vars", { "secrets.env": devVars() });
    const result = await run(["--dev-vars", path.join(dir, "secrets.env")]);
    assert.match(result.stdout, OK);
    assert.equal(result.stderr, "");
    assert.equal(result.code, 0);
  });

  it("passes with --no-secrets when there is no .dev.vars", async () => {
    const dir = directory("repo-no-secrets");
    copyFileSync(path.join(ROOT, "wrangler.toml"), path.join(dir, "wrangler.toml"));
    const result = await run(["--no-secrets"], { cwd: dir });
    assert.match(result.stdout, /^wrangler\.toml: OK \(\d+ routes?, store kv; secrets not checked\)\n$/);
    assert.equal(result.code, 0);
  });
});

describe("npm run check-config", { concurrency: 2 }, () => {
  const valid = `${FIXTURES}/valid.wrangler.toml`;

  it("finds .dev.vars next to the config, as wrangler dev does", async () => {
    const dir = directory("valid-with-dev-vars", { ".dev.vars": devVars() });
    copyFileSync(path.join(ROOT, valid), path.join(dir, "wrangler.toml"));
    const result = await run([], { cwd: dir });
    assert.equal(result.stdout, "wrangler.toml: OK (3 routes, store kv)\n");
    assert.equal(result.code, 0);
  });

  it("reports missing secrets, with a hint, when there is no .dev.vars and no --no-secrets", async () => {
    const dir = directory("valid-without-dev-vars");
    copyFileSync(path.join(ROOT, valid), path.join(dir, "wrangler.toml"));
    const result = await run([], { cwd: dir });
    assert.equal(result.stdout, [
      "wrangler.toml: 2 problems",
      "  - GATE_SECRET: expected a secret of at least 32 bytes (wrangler secret put GATE_SECRET, or .dev.vars)",
      "  - GATE_ORIGIN_SECRET: expected a secret of at least 32 bytes (wrangler secret put GATE_ORIGIN_SECRET, or .dev.vars)",
      "  (no .dev.vars or .env next to wrangler.toml: create one for development; in CI use --secrets-from-env or --no-secrets)",
      "",
    ].join("\n"));
    assert.equal(result.code, 1);
  });

  it("reads the secrets from the environment with --secrets-from-env", async () => {
    const env = { GATE_SECRET: secret(), GATE_ORIGIN_SECRET: "too short" };
    const result = await run(["--config", valid, "--secrets-from-env"], { env });
    assert.equal(result.stdout, `${valid}: 1 problem\n  - GATE_ORIGIN_SECRET: expected a secret of at least 32 bytes, got a shorter one\n`);
    assert.equal(result.code, 1);
  });

  it("reports every problem of a broken config, each on its own line, and exits 1", async () => {
    const config = `${FIXTURES}/problems.wrangler.toml`;
    const result = await run(["--config", config, "--dev-vars", `${FIXTURES}/problems.dev-vars`]);
    assertReports(problemLines(result, config), [
      'main: expected "src/index.ts", got "src/worker.ts"',
      'compatibility_date: "2099-01-01" is later than the installed workerd supports',
      "vars.GATE_ADMIN_TOKEN: is a secret; wrangler.toml is committed with the code",
      'ratelimits[0].simple: RATE_LIMIT_LOGIN allows 5 per 60s, but GATE.rate_limits.login says 10 per "1m"',
      "GATE_ORIGIN_SECRET: expected a secret of at least 32 bytes (wrangler secret put GATE_ORIGIN_SECRET, or .dev.vars)",
      'GATE.session.idle_timout: unknown key: did you mean "idle_timeout"? (expected one of idle_timeout, absolute_timeout,',
      'GATE.session.idle_timeout: expected a duration such as "30s", "15m", "12h" or "7d", got "30 minutes"',
      'GATE.routes[1].path: expected a URLPattern pathname starting with "/" such as "/api/*", got "admin/*"',
      'GATE.routes[2].path: is not a valid URLPattern pathname: "/files/(unclosed"',
      'GATE.routes[3].access: expected one of "public", "session", "deny", got "sometimes"',
    ]);
    assert.equal(result.stderr, "");
    assert.equal(result.code, 1);
  });

  it("answers malformed TOML with one line and exit 1", async () => {
    const result = await run(["--config", `${FIXTURES}/malformed.wrangler.toml`]);
    assert.equal(result.stdout, "");
    assert.equal(result.stderr, `${FIXTURES}/malformed.wrangler.toml: not valid TOML: illegal character in key (line 3, column 6)\n`);
    assert.equal(result.code, 1);
  });

  it("answers a missing config with one line and exit 1", async () => {
    const result = await run(["--config", "no-such-wrangler.toml"]);
    assert.equal(result.stderr, "no-such-wrangler.toml: cannot read it (no such file)\n");
    assert.equal(result.code, 1);
  });

  it("checks an environment with its own bindings and its .dev.vars.<env>", async () => {
    const dir = directory("environments", { ".dev.vars.staging": devVars() });
    copyFileSync(path.join(ROOT, FIXTURES, "environments.wrangler.toml"), path.join(dir, "wrangler.toml"));
    const result = await run(["--env", "staging"], { cwd: dir });
    assert.equal(result.stdout, "wrangler.toml [env.staging]: OK (1 route, store kv)\n");
    assert.equal(result.code, 0);
  });

  it("reports the vars and kv_namespaces an environment forgot, since wrangler does not inherit them", async () => {
    const config = `${FIXTURES}/environments.wrangler.toml`;
    const result = await run(["--config", config, "--env", "forgetful", "--no-secrets"]);
    const problems = problemLines(result, `${config} [env.forgetful]`);
    assertReports(problems, [
      "env.forgetful.vars: missing; wrangler does not inherit the top-level vars into environments",
      "env.forgetful.kv_namespaces: missing; wrangler does not inherit the top-level kv_namespaces",
      "ORIGIN_URL: expected an http(s) URL",
      "SESSIONS: expected a KV namespace binding named SESSIONS",
    ]);
    assert.equal(problems.length, 4);
    assert.equal(result.code, 1);
  });

  it("refuses an environment the config does not define, in one line", async () => {
    const config = `${FIXTURES}/environments.wrangler.toml`;
    const result = await run(["--config", config, "--env", "prod"]);
    assert.equal(result.stderr, `${config} [env.prod]: no [env.prod] section (defined: staging, forgetful)\n`);
    assert.equal(result.code, 1);
  });

  it("reports compatibility flags workerd does not know, every one of them", async () => {
    const dir = directory("unknown-flags");
    const toml = readFileSync(path.join(ROOT, valid), "utf8").replace(
      'compatibility_date = "2026-04-01"',
      'compatibility_date = "2026-04-01"\ncompatibility_flags = ["nodejs_compat", "no_such_flag", "nor_this_one"]',
    );
    writeFileSync(path.join(dir, "wrangler.toml"), toml);
    const result = await run(["--no-secrets"], { cwd: dir });
    assert.deepEqual(problemLines(result, "wrangler.toml"), [
      '  - compatibility_flags: workerd has no compatibility flag "no_such_flag"',
      '  - compatibility_flags: workerd has no compatibility flag "nor_this_one"',
    ]);
    assert.equal(result.code, 1);
  });

  it("refuses unknown or conflicting options with exit 2", async () => {
    for (const args of [["--bogus"], ["--no-secrets", "--secrets-from-env"]]) {
      const result = await run(args);
      assert.match(result.stderr, /^check-config: .*\nusage: npm run check-config/);
      assert.equal(result.code, 2);
    }
  });
});

describe("parseDotenv", () => {
  it("reads .dev.vars the way wrangler does", () => {
    const text = [
      "# a comment",
      "PLAIN=value # trailing comment",
      "export EXPORTED=yes",
      "SINGLE='# not a comment'",
      'DOUBLE="line one\\nline two"',
      "EMPTY=",
      "SPACED = padded  \r",
      "",
    ].join("\n");
    assert.deepEqual(parseDotenv(text), {
      PLAIN: "value",
      EXPORTED: "yes",
      SINGLE: "# not a comment",
      DOUBLE: "line one\nline two",
      EMPTY: "",
      SPACED: "padded",
    });
  });
});
