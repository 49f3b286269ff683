/**
 * Miniflare, from the user's own wrangler: wrangler is a peer dependency, and
 * miniflare is wrangler's dependency, not ours. Resolving it relative to
 * wrangler's package.json works under strict package managers (pnpm), where
 * only wrangler itself is visible from the user's project.
 */
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Miniflare } from "miniflare";
import { show } from "../config/problems";
import { CLI_DIR, readText } from "./paths";
import { FatalError } from "./problem";

/** What the check needs of Miniflare. */
export interface Runtime {
  Miniflare: typeof Miniflare;
  /** The newest compatibility date the installed workerd supports. */
  supportedDate: string;
}

/** Loads Miniflare from the wrangler installed for `projectDir` (else the one beside this package). */
export async function loadRuntime(projectDir: string): Promise<Runtime> {
  const wrangler = resolveFrom([projectDir, CLI_DIR], "wrangler/package.json");
  if (!wrangler) {
    throw new FatalError(
      "check-config runs the gate's parser in workerd through wrangler's Miniflare: install wrangler (npm install --save-dev wrangler)",
    );
  }
  const entry = resolveFrom([path.dirname(wrangler)], "miniflare");
  if (!entry) throw new FatalError(`the wrangler at ${path.dirname(wrangler)} has no miniflare beside it: reinstall wrangler`);
  const module = (await import(pathToFileURL(entry).href)) as { Miniflare: typeof Miniflare; supportedCompatibilityDate?: string };
  return { Miniflare: module.Miniflare, supportedDate: module.supportedCompatibilityDate ?? workerdDate(entry) };
}

function resolveFrom(dirs: string[], request: string): string | undefined {
  for (const dir of dirs) {
    try {
      // createRequire wants a file; it need not exist.
      return createRequire(path.join(dir, "noop.js")).resolve(request);
    } catch {}
  }
  return undefined;
}

/** The date of the workerd beside Miniflare (`1.20260426.1` → `2026-04-26`), for a Miniflare without `supportedCompatibilityDate`. */
function workerdDate(miniflare: string): string {
  const file = resolveFrom([path.dirname(miniflare)], "workerd/package.json");
  if (!file) throw new FatalError("cannot find the workerd that Miniflare runs: reinstall wrangler");
  const { version } = JSON.parse(readText(file));
  const match = /^\d+\.(\d{4})(\d{2})(\d{2})/.exec(version);
  if (!match) throw new FatalError(`cannot tell the installed workerd's compatibility date from its version ${show(version)}`);
  return match.slice(1).join("-");
}
