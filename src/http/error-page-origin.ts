import type { Context } from "hono";
import type { Config } from "../config/types";
import type { GateError } from "../errors";
import type { Logger } from "../log";
import { upstreamUrl } from "../proxy/upstream";
import { withDeadline } from "../util/deadline";
import { readCapped } from "../util/read-capped";
import type { GateEnv } from "./context";

/** How long the origin may take to render `error_page`, headers and body (contract §9). */
export const ERROR_PAGE_TIMEOUT_MS = 2_000;
/** An error page is a small document; a larger answer is taken for a fault, not buffered further. */
const MAX_PAGE_BYTES = 256 * 1024;
/** How long an isolate reuses the origin's page of one error code, and how long it remembers that the origin failed. */
const PAGE_CACHE_MS = 60_000;
const FAILURE_CACHE_MS = 5_000;

/** Options of {@link createOriginPage}. */
export interface OriginPageOptions {
  /** `GATE.error_page`: the path at the origin. */
  path: string;
  origin: Config["origin"];
  /** Where a failure of the origin's page is logged (`origin.error`). */
  log?: Logger;
  /** Default {@link ERROR_PAGE_TIMEOUT_MS}. */
  timeoutMs?: number;
}

/** The origin's rendering of an error: its HTML body and Content-Type. */
export interface OriginPage {
  body: ArrayBuffer;
  contentType: string;
}

/** Asks the origin for its page of `error`; `undefined` when it failed and the built-in page is to be used. */
export type FetchOriginPage = (error: GateError, c: Context<GateEnv>, requestId: string | undefined) => Promise<OriginPage | undefined>;

/**
 * Fetches `GATE.error_page` from the origin (service binding or URL), for a
 * navigation the gate refused. The request is a new, plain GET that carries
 * nothing of the user's: no cookie, no Authorization, no identity header, only
 * `X-Gate-Error`, `X-Gate-Status`, `X-Request-Id` and `Accept: text/html`.
 * The page "fails" (contract §15) on a network error, a status other than 200,
 * a Content-Type other than text/html, or no complete answer within the
 * timeout. Each isolate reuses the page of an error code for a minute (the page
 * must not depend on the request), and after a failure uses the built-in one
 * for a few seconds. `undefined` in middleware mode: there is no origin to ask.
 */
export function createOriginPage(options: OriginPageOptions): FetchOriginPage | undefined {
  const { path, origin, log } = options;
  const timeoutMs = options.timeoutMs ?? ERROR_PAGE_TIMEOUT_MS;
  const binding = origin.binding;
  if (!binding && !origin.url) return undefined;
  const send = binding ? (request: Request) => binding.fetch(request) : (request: Request) => fetch(request);

  async function ask(error: GateError, c: Context<GateEnv>, requestId: string | undefined): Promise<OriginPage | undefined> {
    const base = origin.url ?? new URL(new URL(c.req.url).origin);
    const headers = new Headers({ Accept: "text/html", "X-Gate-Error": error.code, "X-Gate-Status": String(error.status) });
    if (requestId) headers.set("X-Request-Id", requestId);
    const controller = new AbortController();
    const request = new Request(upstreamUrl(base, path, ""), { headers, redirect: "manual", signal: controller.signal });
    try {
      return await withDeadline(readPage(send(request)), timeoutMs, "error_page");
    } catch (failure) {
      controller.abort();
      log?.("origin.error", { error_page: path, error: String(failure), request_id: requestId });
      return undefined;
    }
  }

  // Per isolate and error code, one answer at a time: a flood of refused navigations (a client far over its
  // rate limit) must not become a flood of requests to the origin. A failure is remembered for less long.
  const pages = new Map<string, { until: number; page: Promise<OriginPage | undefined> }>();
  return function fetchOriginPage(error, c, requestId) {
    const now = Date.now();
    const cached = pages.get(error.code);
    if (cached && cached.until > now) return cached.page;
    const entry = { until: now + PAGE_CACHE_MS, page: ask(error, c, requestId) };
    entry.page.then((page) => {
      if (page === undefined) entry.until = Date.now() + FAILURE_CACHE_MS;
    });
    pages.set(error.code, entry);
    return entry.page;
  };
}

/** The origin's page when it answered 200 with a whole, small enough text/html body; throws otherwise. */
async function readPage(pending: Promise<Response>): Promise<OriginPage> {
  const response = await pending;
  const contentType = response.headers.get("content-type") ?? "";
  if (response.status !== 200 || !/^\s*text\/html\s*(;|$)/i.test(contentType)) {
    await response.body?.cancel();
    throw new Error(`answered ${response.status} ${contentType || "without a Content-Type"}`);
  }
  const body = await readCapped(response, MAX_PAGE_BYTES);
  return { body: body.buffer as ArrayBuffer, contentType };
}
