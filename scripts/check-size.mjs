#!/usr/bin/env node
// `npm run lint` (with Biome): files under src/ stay readable. Fails when a file
// is over MAX_FILE_LINES lines, or a function's own lines of code are over
// MAX_FUNCTION_LINES: blank and comment lines do not count, and a nested
// function counts as one line (its first), so a factory of small functions passes.
import { readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

const MAX_FILE_LINES = 200;
const MAX_FUNCTION_LINES = 40;
const ROOTS = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ["src"];

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) yield* files(full);
    else if (/\.(ts|mts)$/.test(name) && !name.endsWith(".d.ts")) yield full;
  }
}

/** Line numbers (0-based) holding code: the lines of the parser's tokens, JSDoc and comments left out. */
function codeLines(source) {
  const lines = new Set();
  const mark = (node) => {
    if (ts.isJSDoc(node)) return;
    if (node.getChildCount(source) > 0) return node.getChildren(source).forEach(mark);
    const line = (pos) => source.getLineAndCharacterOfPosition(pos).line;
    for (let at = line(node.getStart(source)); at <= line(node.getEnd()); at++) lines.add(at);
  };
  mark(source);
  return lines;
}

const isFunction = (node) =>
  ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node) || ts.isArrowFunction(node) || ts.isMethodDeclaration(node);

function check(file) {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const code = codeLines(source);
  const problems = [];
  const total = source.getLineAndCharacterOfPosition(source.getEnd()).line;
  if (total > MAX_FILE_LINES) problems.push(`${file}: ${total} lines (at most ${MAX_FILE_LINES})`);
  const lineOf = (pos) => source.getLineAndCharacterOfPosition(pos).line;
  /** The code lines of `node`, without those of functions nested in it. */
  function ownLines(node) {
    const own = new Set();
    for (let line = lineOf(node.getStart(source)); line <= lineOf(node.getEnd()); line++) if (code.has(line)) own.add(line);
    const drop = (child) => {
      if (isFunction(child)) {
        for (let line = lineOf(child.getStart(source)) + 1; line <= lineOf(child.getEnd()); line++) own.delete(line);
      } else ts.forEachChild(child, drop);
    };
    ts.forEachChild(node, drop);
    return own.size;
  }
  const visit = (node) => {
    if (isFunction(node)) {
      const size = ownLines(node);
      if (size > MAX_FUNCTION_LINES) {
        const name = node.name?.getText(source) ?? (ts.isVariableDeclaration(node.parent) ? node.parent.name.getText(source) : "(anonymous)");
        problems.push(`${file}:${lineOf(node.getStart(source)) + 1}: function ${name} has ${size} lines of its own (at most ${MAX_FUNCTION_LINES})`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return problems;
}

const problems = ROOTS.flatMap((root) => [...files(root)].flatMap(check));
for (const problem of problems) console.log(problem);
process.exit(problems.length > 0 ? 1 : 0);
