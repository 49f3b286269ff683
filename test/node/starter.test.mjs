// What scripts/starter-check.mjs refuses in a tarball, without packing one: the
// allow list, the targets package.json points at, the starter's version range.
// The check itself (npm pack, wrangler dev) runs in .ci/run after `npm test`.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BIN_FILE, packageProblems, satisfiesCaret, schemaRefs } from "../../scripts/lib/starter-package.mjs";

const PKG = {
  main: "./dist/index.js",
  types: "./dist/index.d.ts",
  exports: { ".": { types: "./dist/index.d.ts", default: "./dist/index.js" }, "./schema.json": "./schema.json", "./package.json": "./package.json" },
  bin: { "gatehouse-edge": `./${BIN_FILE}` },
};
const FILES = [
  "package.json",
  "README.md",
  "LICENSE",
  "CHANGELOG.md",
  "docs/deploy.md",
  "docs/storage-schema.md",
  "dist/index.js",
  "dist/index.d.ts",
  "schema.json",
  BIN_FILE,
];

describe("packageProblems", () => {
  it("accepts the runtime code, its declarations, the bin and the docs", () => {
    assert.deepEqual(packageProblems(PKG, FILES), []);
  });

  it("names each test, benchmark, fixture, secret, source map and TypeScript source", () => {
    const stray = [
      "test/e2e/login.test.ts",
      "bench/startup.mjs",
      "test/fixtures/a.toml",
      ".dev.vars",
      "dist/index.js.map",
      "src/index.ts",
      "dist/x.ts",
    ];
    const problems = packageProblems(PKG, [...FILES, ...stray]);
    assert.deepEqual(
      problems.map((problem) => problem.split(":")[0]),
      stray,
    );
    assert.match(
      problems.find((problem) => problem.startsWith(".dev.vars")),
      /local secrets/,
    );
  });

  it("refuses a file outside the allow list", () => {
    assert.deepEqual(packageProblems(PKG, [...FILES, "notes.txt"]), ["notes.txt: not in the allow list (scripts/lib/starter-package.mjs)"]);
  });

  it("reports an exports target missing from the tarball", () => {
    const problems = packageProblems(
      PKG,
      FILES.filter((file) => file !== "schema.json"),
    );
    assert.deepEqual(problems, ["exports points at ./schema.json, which is not in the tarball"]);
  });

  it("leaves a missing bin file to the bin step, which reports it as skipped", () => {
    assert.deepEqual(
      packageProblems(
        PKG,
        FILES.filter((file) => file !== BIN_FILE),
      ),
      [],
    );
  });

  it("refuses a private package", () => {
    assert.deepEqual(packageProblems({ ...PKG, private: true }, FILES), ['package.json is "private": npm would refuse to publish it']);
  });
});

describe("satisfiesCaret", () => {
  it("keeps a 0.x range to its minor version", () => {
    assert.equal(satisfiesCaret("^0.2.0", "0.2.0"), true);
    assert.equal(satisfiesCaret("^0.2.0", "0.2.7"), true);
    assert.equal(satisfiesCaret("^0.2.0", "0.3.0"), false);
    assert.equal(satisfiesCaret("^0.2.1", "0.2.0"), false);
  });

  it("keeps a 1.x range to its major version, and refuses other forms", () => {
    assert.equal(satisfiesCaret("^1.2.0", "1.9.0"), true);
    assert.equal(satisfiesCaret("^1.2.0", "2.0.0"), false);
    assert.equal(satisfiesCaret("0.2.0", "0.2.0"), false);
  });
});

describe("schemaRefs", () => {
  it("finds the relative files a schema refers to, not its own fragments", () => {
    const schema = {
      allOf: [{ $ref: "../wrangler/config-schema.json" }, { properties: { GATE: { $ref: "./schema.json#/x" } } }],
      $defs: { a: { $ref: "#/b" } },
    };
    assert.deepEqual(schemaRefs(schema), ["../wrangler/config-schema.json", "./schema.json"]);
  });
});
