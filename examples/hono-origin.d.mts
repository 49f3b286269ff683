import type { Hono } from "hono";

/** Options of {@link createOrigin}. */
export interface OriginOptions {
  /** The gate's public URL: the assertion's `iss`, and where its JWKS lives. */
  gateUrl: string;
  /** The `aud` the gate signs for this origin. */
  audience: string;
  /** GATE_ORIGIN_SECRET, which `X-Gate-Login` is signed with. */
  originSecret: string;
  /** How to fetch the JWKS; default the global fetch. */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
}

/** The example origin as a Hono app. */
export declare function createOrigin(options: OriginOptions): Hono;

/** The Workers entry: reads GATE_URL, ORIGIN_AUDIENCE and GATE_ORIGIN_SECRET from env. */
declare const worker: { fetch(request: Request, env: Record<string, string>, ctx: ExecutionContext): Response | Promise<Response> };
export default worker;
