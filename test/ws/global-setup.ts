// Vitest globalSetup (runs in Node, not in workerd): a real `ws` WebSocket origin on
// 127.0.0.1, shared by every test file. Connections are told apart by their `?id=`;
// `GET ${wsOriginUrl}/log?id=` says what reached the origin. See origin.mjs.
import type { TestProject } from "vitest/node";
import { startWsOrigin } from "./origin.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    /** Base URL of the WebSocket test origin, `http://127.0.0.1:<port>`. */
    wsOriginUrl: string;
  }
}

/** Starts the origin, provides its address, and returns the teardown. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const origin = await startWsOrigin();
  project.provide("wsOriginUrl", origin.url);
  return () => origin.close();
}
