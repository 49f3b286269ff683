// `gatehouse-edge check-config` (what `npm run check-config` runs) end to end: the
// real bin, bundled once by scripts/build-cli.mjs, and the real parser in workerd.
// Runs under node:test (`node --test test/node/`), not vitest: it drives Node
// child processes, and each run starts its own workerd (under a second).
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const BIN = path.join(ROOT, "bin", "gatehouse-edge.mjs");
const FIXTURES = "test/fixtures";
const SECRET_NAMES = ["GATE_SECRET", "GATE_ORIGIN_SECRET", "GATE_ADMIN_TOKEN", "UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN"];
const OK = /^wrangler\.toml: OK \(\d+ routes?, store kv\)\n$/;
/** A deployment's whole src/index.ts (contract §8). */
const ONE_LINER = 'export { default, GatehouseSessions } from "gatehouse-edge";\n';

const scratch = mkdtempSync(path.join(tmpdir(), "check-config-test-"));
before(() => execFileSync(process.execPath, [path.join(ROOT, "scripts", "build-cli.mjs")]));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A new directory under the scratch one (names are unique per test), holding `files` (name → text). */
function directory(name, files = {}) {
  const dir = path.join(scratch, name);
  mkdirSync(dir);
  for (const [file, text] of Object.entries(files)) writeFileSync(path.join(dir, file), text);
  return dir;
}

/**
 * A deployment as a user has it: `toml` as wrangler.toml, `main` as src/index.ts,
 * and node_modules/gatehouse-edge a link to this repository (unless `linked` is false).
 */
function project(name, { toml, main = ONE_LINER, files = {}, linked = true } = {}) {
  const dir = directory(name, files);
  mkdirSync(path.join(dir, "src"));
  writeFileSync(path.join(dir, "src", "index.ts"), main);
  if (linked) {
    mkdirSync(path.join(dir, "node_modules"));
    symlinkSync(ROOT, path.join(dir, "node_modules", "gatehouse-edge"), "dir");
  }
  if (toml !== undefined) writeFileSync(path.join(dir, "wrangler.toml"), toml);
  return dir;
}

function fixture(name) {
  return readFileSync(path.join(ROOT, FIXTURES, name), "utf8");
}

function secret() {
  return randomBytes(32).toString("base64url");
}

function devVars() {
  return `GATE_SECRET=${secret()}\nGATE_ORIGIN_SECRET="${secret()}" # quoted, with a comment\n`;
}

/** Runs the bin with `args`; never rejects. Secrets in the caller's environment are not passed on. */
function gatehouse(args, { cwd = ROOT, env = {} } = {}) {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !SECRET_NAMES.includes(name)));
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd, env: { ...inherited, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? error.code : 0, stdout, stderr });
    });
  });
}

/** `gatehouse-edge check-config …`. */
function run(args, options) {
  return gatehouse(["check-config", ...args], options);
}

/** The problem lines of a report, after checking its first line counts them. */
function problemLines(result, label) {
  const [header, ...rest] = result.stdout.trimEnd().split("\n");
  const problems = rest.filter((line) => line.startsWith("  - "));
  assert.equal(header, `${label}: ${problems.length} problem${problems.length === 1 ? "" : "s"}`, result.stdout + result.stderr);
  return problems;
}

/** Asserts each expected line starts one of the problem lines. */
function assertReports(problems, expected) {
  for (const line of expected) {
    assert.ok(
      problems.some((problem) => problem.startsWith(`  - ${line}`)),
      `missing "${line}" in:\n${problems.join("\n")}`,
    );
  }
}

/** The 1-based line of the first line of `text` that starts with `start`. */
function lineOf(text, start) {
  return text.split("\n").findIndex((line) => line.startsWith(start)) + 1;
}

describe("npm run check-config on the repository's wrangler.toml", { concurrency: 3 }, () => {
  it("passes with the secrets in a .dev.vars", async () => {
    const dir = directory("repo-with-dev-vars", { "secrets.env": devVars() });
    const result = await run(["--dev-vars", path.join(dir, "secrets.env")]);
    assert.match(result.stdout, OK);
    assert.equal(result.stderr, "");
    assert.equal(result.code, 0);
  });

  it("passes with --no-secrets when there is no .dev.vars", async () => {
    const dir = project("repo-no-secrets", { toml: readFileSync(path.join(ROOT, "wrangler.toml"), "utf8") });
    const result = await run(["--no-secrets"], { cwd: dir });
    assert.match(result.stdout, /^wrangler\.toml: OK \(\d+ routes?, store kv; secrets not checked\)\n$/);
    assert.equal(result.code, 0);
  });

  it("is refused by --deploy, one line per hazard, in file order", async () => {
    const toml = readFileSync(path.join(ROOT, "wrangler.toml"), "utf8");
    const [origin, gate, kv] = [lineOf(toml, "ORIGIN_URL ="), lineOf(toml, "[vars.GATE]"), lineOf(toml, 'id = "000')];
    const result = await run(["--deploy"]);
    const problems = problemLines(result, "wrangler.toml");
    const expected = [
      `wrangler.toml:${origin}: ORIGIN_URL: "http://localhost:8788" is localhost: the deployed gate runs on Cloudflare and cannot reach it`,
      `wrangler.toml:${origin}: ORIGIN_URL: "http://localhost:8788" is plain http:`,
      `wrangler.toml:${gate}: GATE.public_origin: not set:`,
      `wrangler.toml:${gate}: GATE.issuer: left to default`,
      `wrangler.toml:${kv}: kv_namespaces[0].id: "00000000000000000000000000000000" is a placeholder: create the namespace`,
      "secrets: GATE_SECRET, GATE_ORIGIN_SECRET not known to be set: --deploy does not read .dev.vars",
    ];
    assert.equal(problems.length, expected.length, result.stdout);
    for (const [index, start] of expected.entries()) assert.ok(problems[index].startsWith(`  - ${start}`), `line ${index}: ${problems[index]}`);
    assert.equal(result.code, 1);
  });
});

describe("npm run check-config", { concurrency: 3 }, () => {
  const valid = fixture("valid.wrangler.toml");

  it("finds .dev.vars next to the config, as wrangler dev does", async () => {
    const dir = project("valid-with-dev-vars", { toml: valid, files: { ".dev.vars": devVars() } });
    const result = await run([], { cwd: dir });
    assert.equal(result.stdout, "wrangler.toml: OK (3 routes, store kv)\n");
    assert.equal(result.code, 0);
  });

  it("reports missing secrets, with a hint, when there is no .dev.vars and no --no-secrets", async () => {
    const dir = project("valid-without-dev-vars", { toml: valid });
    const result = await run([], { cwd: dir });
    assert.equal(
      result.stdout,
      [
        "wrangler.toml: 2 problems",
        "  - GATE_SECRET: expected a secret of at least 32 bytes (wrangler secret put GATE_SECRET, or .dev.vars)",
        "  - GATE_ORIGIN_SECRET: expected a secret of at least 32 bytes (wrangler secret put GATE_ORIGIN_SECRET, or .dev.vars)",
        "  (no .dev.vars or .env next to wrangler.toml: create one for development; in CI use --secrets-from-env or --no-secrets)",
        "",
      ].join("\n"),
    );
    assert.equal(result.code, 1);
  });

  it("reads the secrets from the environment with --secrets-from-env", async () => {
    const dir = project("valid-secrets-from-env", { files: { "valid.wrangler.toml": valid } });
    const env = { GATE_SECRET: secret(), GATE_ORIGIN_SECRET: "too short" };
    const result = await run(["-c", "valid.wrangler.toml", "--secrets-from-env"], { cwd: dir, env });
    assert.equal(
      result.stdout,
      "valid.wrangler.toml: 1 problem\n  - GATE_ORIGIN_SECRET: expected a secret of at least 32 bytes, got a shorter one\n",
    );
    assert.equal(result.code, 1);
  });

  it("reports every problem of a broken config, each on its own line, and exits 1", async () => {
    const config = `${FIXTURES}/problems.wrangler.toml`;
    const result = await run(["--config", config, "--dev-vars", `${FIXTURES}/problems.dev-vars`]);
    assertReports(problemLines(result, config), [
      `${config}:4: main: "src/worker.ts" does not exist`,
      `${config}:5: compatibility_date: "2099-01-01" is later than the installed workerd supports`,
      `${config}:10: vars.GATE_ADMIN_TOKEN: is a secret; wrangler.toml is committed with the code`,
      `${config}:45: ratelimits[0].simple: RATE_LIMIT_LOGIN allows 5 per 60s, but GATE.rate_limits.login says 10 per "1m"`,
      "GATE_ORIGIN_SECRET: expected a secret of at least 32 bytes (wrangler secret put GATE_ORIGIN_SECRET, or .dev.vars)",
      `${config}:18: GATE.session.idle_timout: unknown key: did you mean "idle_timeout"? (expected one of idle_timeout, absolute_timeout,`,
      `${config}:16: GATE.session.idle_timeout: expected a duration such as "30s", "15m", "12h" or "7d", got "30 minutes"`,
      `${config}:28: GATE.routes[1].path: expected a URLPattern pathname starting with "/" such as "/api/*", got "admin/*"`,
      `${config}:32: GATE.routes[2].path: is not a valid URLPattern pathname: "/files/(unclosed"`,
      `${config}:36: GATE.routes[3].access: expected one of "public", "session", "deny", got "sometimes"`,
    ]);
    assert.equal(result.stderr, "");
    assert.equal(result.code, 1);
  });

  it("prints problems in file order, with their lines, and those without a line last", async () => {
    const config = `${FIXTURES}/problems.wrangler.toml`;
    const result = await run(["--config", config, "--dev-vars", `${FIXTURES}/problems.dev-vars`]);
    const problems = problemLines(result, config);
    const lines = problems.map((problem) => problem.match(/^ {2}- test\/fixtures\/problems\.wrangler\.toml:(\d+): /)?.[1]);
    const placed = lines.filter(Boolean).map(Number);
    assert.deepEqual(
      placed,
      [...placed].sort((a, b) => a - b),
      result.stdout,
    );
    assert.ok(placed.length >= 9, result.stdout);
    assert.deepEqual(lines.slice(placed.length), new Array(problems.length - placed.length).fill(undefined), "unplaced problems come last");
    assert.ok(problems.at(-1).startsWith("  - GATE_ORIGIN_SECRET: "), problems.at(-1));
  });

  it("points a misspelt key at its line with the key it meant, in an inline table too", async () => {
    const dir = project("typos", { toml: fixture("typos.wrangler.toml") });
    const result = await run(["--no-secrets"], { cwd: dir });
    assert.deepEqual(
      problemLines(result, "wrangler.toml").map((line) => line.replace(/ \(expected one of .*\)$/, "")),
      [
        '  - wrangler.toml:11: GATE.login_pth: unknown key: did you mean "login_path"?',
        '  - wrangler.toml:14: GATE.rate_limits.login.perod: unknown key: did you mean "period"?',
        '  - wrangler.toml:18: GATE.routes[0].acess: unknown key: did you mean "access"?',
      ],
    );
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
    const dir = project("environments", { toml: fixture("environments.wrangler.toml"), files: { ".dev.vars.staging": devVars() } });
    const result = await run(["--env", "staging"], { cwd: dir });
    assert.equal(result.stdout, "wrangler.toml [env.staging]: OK (1 route, store kv)\n");
    assert.equal(result.code, 0);
  });

  it("reports the vars and kv_namespaces an environment forgot, since wrangler does not inherit them", async () => {
    const dir = project("environments-forgetful", { files: { "environments.wrangler.toml": fixture("environments.wrangler.toml") } });
    const config = "environments.wrangler.toml";
    const result = await run(["--config", config, "--env", "forgetful", "--no-secrets"], { cwd: dir });
    const problems = problemLines(result, `${config} [env.forgetful]`);
    assertReports(problems, [
      `${config}:28: env.forgetful.vars: missing; wrangler does not inherit the top-level vars into environments`,
      `${config}:28: env.forgetful.kv_namespaces: missing; wrangler does not inherit the top-level kv_namespaces`,
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
    const toml = valid.replace(
      'compatibility_date = "2026-04-01"',
      'compatibility_date = "2026-04-01"\ncompatibility_flags = ["nodejs_compat", "no_such_flag", "nor_this_one"]',
    );
    const dir = project("unknown-flags", { toml });
    const result = await run(["--no-secrets"], { cwd: dir });
    assert.deepEqual(problemLines(result, "wrangler.toml"), [
      '  - wrangler.toml:6: compatibility_flags: workerd has no compatibility flag "no_such_flag"',
      '  - wrangler.toml:6: compatibility_flags: workerd has no compatibility flag "nor_this_one"',
    ]);
    assert.equal(result.code, 1);
  });
});

describe("check-config's main", { concurrency: 3 }, () => {
  const valid = fixture("valid.wrangler.toml");

  it("accepts a starter's one-line src/index.ts that re-exports the package", async () => {
    const dir = project("starter-main", { toml: valid, main: 'export { default } from "gatehouse-edge";\n' });
    const result = await run(["--no-secrets"], { cwd: dir });
    assert.equal(result.stdout, "wrangler.toml: OK (3 routes, store kv; secrets not checked)\n");
    assert.equal(result.code, 0);
  });

  it("refuses a main that does not reach the package, even with the import commented out", async () => {
    const main = '// export { default } from "gatehouse-edge";\nexport default { fetch: () => new Response("hi") };\n';
    const dir = project("foreign-main", { toml: valid, main });
    const result = await run(["--no-secrets"], { cwd: dir });
    assert.deepEqual(problemLines(result, "wrangler.toml"), [
      '  - wrangler.toml:4: main: "src/index.ts" does not import or re-export "gatehouse-edge", so the Worker would not be the gate; ' +
        'write export { default, GatehouseSessions } from "gatehouse-edge";',
    ]);
    assert.equal(result.code, 1);
  });

  it("refuses a main whose gatehouse-edge is not installed", async () => {
    const dir = project("uninstalled-main", { toml: valid, linked: false });
    const result = await run(["--no-secrets"], { cwd: dir });
    assertReports(problemLines(result, "wrangler.toml"), [
      'wrangler.toml:4: main: "src/index.ts" imports "gatehouse-edge", which is not installed there',
    ]);
    assert.equal(result.code, 1);
  });

  it("refuses a main that does not export GatehouseSessions when wrangler.toml binds it", async () => {
    const toml = readFileSync(path.join(ROOT, "wrangler.toml"), "utf8");
    const dir = project("main-without-class", { toml, main: 'export { default } from "gatehouse-edge";\n' });
    const result = await run(["--no-secrets"], { cwd: dir });
    assertReports(problemLines(result, "wrangler.toml"), [
      `wrangler.toml:${lineOf(toml, "main =")}: main: "src/index.ts" does not export GatehouseSessions, the class of durable_objects.bindings[0]`,
    ]);
    assert.equal(result.code, 1);
  });

  it("checks a Worker that uses the Hono middleware without an ORIGIN_URL", async () => {
    const main =
      'import { Hono } from "hono";\nimport { gatehouse } from "gatehouse-edge";\nconst app = new Hono();\napp.use(gatehouse());\nexport default app;\n';
    const dir = project("middleware-main", { toml: valid.replace(/^ORIGIN_URL = .*$/m, "") });
    writeFileSync(path.join(dir, "src", "index.ts"), main);
    const result = await run(["--no-secrets"], { cwd: dir });
    assert.equal(result.stdout, "wrangler.toml: OK (3 routes, store kv; secrets not checked)\n");
  });
});

describe("check-config in durable mode", { concurrency: 3 }, () => {
  const durable = fixture("durable.wrangler.toml");

  it("passes with the SESSION_OBJECTS binding and its SQLite migration", async () => {
    const dir = project("durable", { toml: durable });
    const result = await run(["--no-secrets"], { cwd: dir });
    assert.equal(result.stdout, "wrangler.toml: OK (2 routes, store durable; secrets not checked)\n");
    assert.equal(result.code, 0);
  });

  it("reports the Durable Object binding an environment forgot, since wrangler does not inherit it", async () => {
    const dir = project("durable-forgetful", { toml: durable });
    const result = await run(["--no-secrets", "--env", "forgetful"], { cwd: dir });
    assert.deepEqual(problemLines(result, "wrangler.toml [env.forgetful]"), [
      `  - wrangler.toml:${lineOf(durable, "[env.forgetful.vars]")}: env.forgetful.durable_objects: missing; wrangler does not inherit the top-level durable_objects into environments, so the gate would run without it (copy it under [env.forgetful])`,
      '  - SESSION_OBJECTS: expected a Durable Object namespace binding of class GatehouseSessions (SESSION_STORE is "durable")',
    ]);
  });

  for (const [name, change, expected] of [
    [
      "a migration",
      (toml) => toml.replace(/\[\[migrations\]\]\ntag = .*\nnew_sqlite_classes = .*\n/, ""),
      'migrations: no migration creates GatehouseSessions (SESSION_STORE is "durable"): add [[migrations]]',
    ],
    [
      "SQLite storage",
      (toml) => toml.replace("new_sqlite_classes", "new_classes"),
      `wrangler.toml:${lineOf(durable, "new_sqlite_classes")}: migrations[0].new_classes: GatehouseSessions needs SQLite storage`,
    ],
    [
      "the gate's class",
      (toml) => toml.replace('class_name = "GatehouseSessions"', 'class_name = "Sessions"'),
      `wrangler.toml:${lineOf(durable, "class_name")}: durable_objects.bindings[0].class_name: expected "GatehouseSessions"`,
    ],
  ]) {
    it(`refuses a durable config without ${name}`, async () => {
      const dir = project(`durable-without-${name.replaceAll(/\W/g, "-")}`, { toml: change(durable) });
      const result = await run(["--no-secrets"], { cwd: dir });
      const problems = problemLines(result, "wrangler.toml");
      assertReports(problems, [expected]);
      assert.equal(problems.length, 1, result.stdout);
    });
  }
});

describe("check-config --deploy", { concurrency: 3 }, () => {
  const ready = fixture("deploy.wrangler.toml");
  const secrets = { GATE_SECRET: secret(), GATE_ORIGIN_SECRET: secret() };

  /** Runs --deploy on `toml` in a project of its own; resolves to its problem lines. */
  async function deploy(name, toml, { args = [], env = {} } = {}) {
    const result = await run(["--deploy", ...args], { cwd: project(`deploy-${name}`, { toml }), env });
    if (result.code === 0) return [];
    assert.equal(result.code, 1, result.stderr);
    return problemLines(result, "wrangler.toml");
  }

  it("passes a config ready for production, with its secrets declared or from the environment", async () => {
    assert.deepEqual(await deploy("ready", ready), []);
    assert.deepEqual(
      await deploy("ready-env", ready.replace(/\[secrets\]\nrequired = .*\n/, ""), { args: ["--secrets-from-env"], env: secrets }),
      [],
    );
  });

  for (const [name, change, expected, options] of [
    [
      "ORIGIN_URL on localhost",
      ["https://origin.example.com", "https://localhost:8443"],
      'wrangler.toml:15: ORIGIN_URL: "https://localhost:8443" is localhost:',
    ],
    [
      "ORIGIN_URL on plain http",
      ["https://origin.example.com", "http://origin.example.com"],
      'wrangler.toml:15: ORIGIN_URL: "http://origin.example.com" is plain http:',
    ],
    [
      "a placeholder KV id",
      ["0f2ac74b498b48028cb68387c421e279", "00000000000000000000000000000000"],
      'wrangler.toml:28: kv_namespaces[0].id: "00000000000000000000000000000000" is a placeholder',
    ],
    [
      "a KV id that is not one",
      ["0f2ac74b498b48028cb68387c421e279", "my-sessions"],
      'wrangler.toml:28: kv_namespaces[0].id: "my-sessions" is not a KV namespace id (32 hex characters)',
    ],
    [
      "undeclared secrets",
      [/\[secrets\]\nrequired = .*\n/, ""],
      "secrets: GATE_SECRET, GATE_ORIGIN_SECRET not known to be set: --deploy does not read .dev.vars",
    ],
    [
      "a secret missing from the declaration",
      ['required = ["GATE_SECRET", "GATE_ORIGIN_SECRET"]', 'required = ["GATE_SECRET"]'],
      "wrangler.toml:11: secrets: GATE_ORIGIN_SECRET not known to be set",
    ],
    [
      "a secret missing from the environment",
      [/\[secrets\]\nrequired = .*\n/, ""],
      "GATE_ORIGIN_SECRET: expected a secret of at least 32 bytes",
      { args: ["--secrets-from-env"], env: { GATE_SECRET: secret() } },
    ],
    [
      "GATE_ORIGIN_SECRET equal to GATE_SECRET",
      [/\[secrets\]\nrequired = .*\n/, ""],
      "GATE_ORIGIN_SECRET: is the same as GATE_SECRET",
      { args: ["--secrets-from-env"], env: { GATE_SECRET: secrets.GATE_SECRET, GATE_ORIGIN_SECRET: secrets.GATE_SECRET } },
    ],
    ["the issuer left to default", [/^issuer = .*$/m, ""], "wrangler.toml:18: GATE.issuer: left to default"],
    ["no public_origin", [/^public_origin = .*$/m, ""], "wrangler.toml:18: GATE.public_origin: not set:"],
    [
      "a public_origin on plain http",
      ['public_origin = "https://app.example.com"', 'public_origin = "http://app.example.com"'],
      'wrangler.toml:19: GATE.public_origin: "http://app.example.com" is plain http:',
    ],
    [
      "a development trusted origin",
      ['"https://admin.example.com"', '"https://admin.example.com", "http://localhost:3000"'],
      'wrangler.toml:21: GATE.trusted_origins: "http://localhost:3000" is a development origin (localhost)',
    ],
    [
      "no cron",
      [/\[triggers\]\ncrons = .*\n/, ""],
      'triggers: no cron: the gate would sign every assertion with the key it creates on first use and never rotate it; add [triggers] crons = ["0 * * * *"]',
    ],
  ]) {
    it(`refuses ${name}, in one line`, async () => {
      const problems = await deploy(name.replaceAll(/\W/g, "-"), ready.replace(...change), options);
      assert.equal(problems.length, 1, problems.join("\n"));
      assertReports(problems, [expected]);
    });
  }

  it("refuses an ORIGIN_URL on any loopback, private, link-local or unique-local address", async () => {
    const hosts = {
      "[::1]": "the loopback address (::1)",
      "127.0.0.2": "a loopback address (127.0.0.0/8)",
      "[::ffff:127.0.0.1]": "a loopback address (127.0.0.0/8)",
      "10.1.2.3": "a private address (10.0.0.0/8)",
      "172.20.0.1": "a private address (172.16.0.0/12)",
      "192.168.1.10": "a private address (192.168.0.0/16)",
      "169.254.169.254": "a link-local address (169.254.0.0/16)",
      "[fd12:3456::1]": "a unique-local address (fc00::/7)",
      "[fe80::1]": "a link-local address (fe80::/10)",
      "0.0.0.0": "the unspecified address (this host)",
      "app.localhost": "a .localhost name",
    };
    const entries = Object.entries(hosts);
    // Three workerd at a time: the whole list in a few seconds.
    for (let start = 0; start < entries.length; start += 3) {
      await Promise.all(
        entries.slice(start, start + 3).map(async ([host, kind]) => {
          const problems = await deploy(`private-${host.replaceAll(/\W/g, "-")}`, ready.replace("https://origin.example.com", `https://${host}`));
          assert.equal(problems.length, 1, problems.join("\n"));
          assert.ok(problems[0].includes(`: ORIGIN_URL: "https://${host}" is ${kind}`), problems[0]);
        }),
      );
    }
    assert.deepEqual(await deploy("public-172-32", ready.replace("https://origin.example.com", "https://172.32.0.1")), []);
  });

  it("refuses an Upstash URL a deployed gate cannot use, in redis mode", async () => {
    const env = { ...secrets, UPSTASH_REDIS_REST_URL: "http://127.0.0.1:8079", UPSTASH_REDIS_REST_TOKEN: "token" };
    const problems = await deploy("redis-local", ready.replace('SESSION_STORE = "kv"', 'SESSION_STORE = "redis"'), {
      args: ["--secrets-from-env"],
      env,
    });
    assert.deepEqual(
      problems.map((line) => line.slice(0, line.indexOf(":", line.indexOf("is ")))),
      [
        '  - UPSTASH_REDIS_REST_URL: "http://127.0.0.1:8079" is a loopback address (127.0.0.0/8)',
        '  - UPSTASH_REDIS_REST_URL: "http://127.0.0.1:8079" is plain http',
      ],
    );
  });
});

describe("the gatehouse-edge command line", { concurrency: 3 }, () => {
  it("prints the check-config usage with --help, and exits 0", async () => {
    const result = await run(["--help"]);
    assert.match(result.stdout, /^usage: gatehouse-edge check-config \[options\]\n/);
    for (const option of ["--config", "--env", "--deploy", "--dev-vars", "--secrets-from-env", "--no-secrets"])
      assert.ok(result.stdout.includes(option), option);
    assert.equal(result.code, 0);
  });

  it("lists its commands with --help, and its version with --version", async () => {
    const help = await gatehouse(["--help"]);
    assert.match(help.stdout, /^usage: gatehouse-edge <command>[\s\S]*check-config/);
    const version = await gatehouse(["--version"]);
    assert.equal(version.stdout, `${JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")).version}\n`);
  });

  it("refuses unknown or conflicting options with exit 2", async () => {
    const cases = [
      ["--bogus"],
      ["--no-secrets", "--secrets-from-env"],
      ["--env"],
      ["extra"],
      ["--deploy", "--no-secrets"],
      ["--deploy", "--dev-vars", ".dev.vars"],
    ];
    for (const args of cases) {
      const result = await run(args);
      assert.match(result.stderr, /^gatehouse-edge check-config: .*\nusage: gatehouse-edge check-config/, args.join(" "));
      assert.equal(result.code, 2, args.join(" "));
    }
  });

  it("refuses a missing or unknown command with exit 2", async () => {
    for (const args of [[], ["check"]]) {
      const result = await gatehouse(args);
      assert.match(result.stderr, /^gatehouse-edge: .*\nusage: gatehouse-edge <command>/);
      assert.equal(result.code, 2);
    }
  });

  it("says to build when dist/ is missing, as in a fresh source checkout", async () => {
    const dir = directory("no-dist");
    mkdirSync(path.join(dir, "bin"));
    copyFileSync(BIN, path.join(dir, "bin", "gatehouse-edge.mjs"));
    const result = await new Promise((resolve) =>
      execFile(process.execPath, [path.join(dir, "bin", "gatehouse-edge.mjs")], (error, _stdout, stderr) => resolve({ code: error?.code, stderr })),
    );
    assert.match(result.stderr, /run npm run build first/);
    assert.equal(result.code, 1);
  });
});

describe("reading .dev.vars", () => {
  it("reads .dev.vars the way wrangler does", async () => {
    const { readDotenv } = await import(pathToFileURL(path.join(ROOT, "dist", "cli", "gatehouse-edge.mjs")).href);
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
    assert.deepEqual(readDotenv(text), {
      PLAIN: "value",
      EXPORTED: "yes",
      SINGLE: "# not a comment",
      DOUBLE: "line one\nline two",
      EMPTY: "",
      SPACED: "padded",
    });
  });

  it("keeps the key after a line without =, which Node's parseEnv would glue to it", async () => {
    const { readDotenv } = await import(pathToFileURL(path.join(ROOT, "dist", "cli", "gatehouse-edge.mjs")).href);
    assert.deepEqual(readDotenv("NOTE\nGATE_SECRET=abc\nexport  SPACED=1\n"), { GATE_SECRET: "abc", SPACED: "1" });
  });
});
