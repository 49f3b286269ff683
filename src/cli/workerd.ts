/**
 * Runs the prebuilt checker Worker (dist/cli/check-config-worker.js) in
 * workerd on the declared bindings, and reads back the gate's own verdict.
 */
import path from "node:path";
import type { ParseMode } from "../config/parse";
import { show } from "../config/problems";
import type { Bindings } from "./bindings";
import type { CheckResult } from "./checker/worker";
import type { Compatibility } from "./compat";
import { CLI_DIR, readText } from "./paths";
import { FatalError, oneLine } from "./problem";
import type { Runtime } from "./runtime";

const WORKER_NAME = "gatehouse-check-config";
const WORKER_FILE = path.join(CLI_DIR, "check-config-worker.js");

/** The parser's verdict, and what workerd itself refused (unknown compatibility flags, which fail a deploy too). */
export interface ParserRun {
  verdict: CheckResult & { ok: boolean };
  refused: string[];
}

type Run = { verdict: CheckResult; error?: undefined } | { verdict?: undefined; error: unknown; output: string };

/** Runs the parser on `bindings` (secrets included in `vars`); throws {@link FatalError} when workerd cannot run it. */
export async function runParser(runtime: Runtime, bindings: Bindings, compat: Compatibility, mode: ParseMode, label: string): Promise<ParserRun> {
  const script = readText(WORKER_FILE, `${WORKER_FILE} (the prebuilt checker; run npm run build)`);
  const unknown: string[] = [];
  const flagsLeft = () => compat.flags.filter((name) => !unknown.includes(name));
  let run = await runOnce(runtime, script, bindings, { ...compat, flags: flagsLeft() }, mode);
  // workerd names one unknown flag per start; drop it and try again, at most once per flag.
  for (let flag = unknownFlag(run); flag && !unknown.includes(flag); flag = unknownFlag(run)) {
    unknown.push(flag);
    run = await runOnce(runtime, script, bindings, { ...compat, flags: flagsLeft() }, mode);
  }
  if (run.verdict === undefined) {
    const detail = run.output.split("\n").find((line) => line.trim()) ?? "";
    throw new FatalError(`${label}: could not run the check in workerd: ${oneLine(run.error)}${detail ? ` (${detail.trim()})` : ""}`);
  }
  if ("error" in run.verdict) throw new FatalError(`${label}: the gate's parseConfig threw ${run.verdict.error}`);
  const refused = compat.flags
    .filter((flag) => unknown.includes(flag))
    .map((flag) => `${compat.where}: workerd has no compatibility flag ${show(flag)}`);
  return { verdict: run.verdict as ParserRun["verdict"], refused };
}

function unknownFlag(run: Run): string | undefined {
  return run.verdict ? undefined : /No such compatibility flag: (\S+)/.exec(run.output)?.[1];
}

/** One Miniflare run; workerd's own output is captured, not printed, and returned on failure. */
async function runOnce({ Miniflare }: Runtime, script: string, bindings: Bindings, compat: Compatibility, mode: ParseMode): Promise<Run> {
  const chunks: Buffer[] = [];
  let mf: InstanceType<typeof Miniflare> | undefined;
  try {
    mf = new Miniflare({
      name: WORKER_NAME,
      modules: true,
      script,
      compatibilityDate: compat.date,
      compatibilityFlags: compat.flags,
      bindings: bindings.vars as Record<string, string>,
      kvNamespaces: bindings.kv.map((entry) => entry.binding),
      // Any worker will do as the origin: the parser only checks the binding is there.
      serviceBindings: Object.fromEntries(bindings.services.map((name) => [name, WORKER_NAME])),
      ratelimits: Object.fromEntries(Object.entries(bindings.ratelimits).map(([name, { limit, period }]) => [name, { simple: { limit, period } }])),
      // The checker's stand-in class: the parser only checks the namespace is there.
      durableObjects: Object.fromEntries(bindings.objects.map(({ name }) => [name, { className: "GatehouseSessions", useSQLite: true }])),
      handleRuntimeStdio: (stdout, stderr) => {
        stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
        stderr.on("data", (chunk: Buffer) => chunks.push(chunk));
      },
    });
    const response = await mf.dispatchFetch("http://check-config.invalid/", {
      method: "POST",
      body: JSON.stringify({ ratelimits: bindings.ratelimits, mode }),
    });
    const body = await response.text();
    if (!response.ok) throw new Error(`the checker answered ${response.status}: ${body}`);
    return { verdict: JSON.parse(body) as CheckResult };
  } catch (error) {
    // workerd may still be flushing why it stopped.
    await new Promise((resolve) => setTimeout(resolve, 50));
    return { error, output: Buffer.concat(chunks).toString("utf8") };
  } finally {
    await mf?.dispose().catch(() => {});
  }
}
