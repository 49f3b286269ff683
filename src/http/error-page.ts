import type { Context } from "hono";
import type { Config } from "../config/types";
import { type GateError, toGateError, toResponse } from "../errors";
import type { Logger } from "../log";
import { loginUrl } from "../policy/enforce";
import { isNavigation } from "./client";
import type { GateEnv } from "./context";
import { errorPageHtml } from "./error-page-html";
import { createOriginPage } from "./error-page-origin";
import { pageText } from "./error-page-text";

/** Options of {@link createErrorRenderer}. */
export interface ErrorRendererOptions {
  /** `GATE.login_path`, linked from the pages that ask to log in; absent in a misconfigured gate (no link). */
  loginPath?: string;
  /** `GATE.error_page`: a path at the origin that renders the pages instead; absent: the built-in pages. */
  errorPage?: string;
  /** Where `error_page` is fetched from; with neither `url` nor `binding` (middleware mode) it never is. */
  origin: Config["origin"];
  /** Where a failing `error_page` is logged. */
  log?: Logger;
  /** How long the origin may take to render `error_page`, in ms; default 2000 (contract §9). */
  errorPageTimeoutMs?: number;
}

/** Turns anything thrown in the pipeline into the response for this request (used by `app.onError`). */
export type ErrorRenderer = (error: unknown, c: Context<GateEnv>) => Promise<Response>;

/**
 * Errors a person can read (contract §9). A navigation (`Sec-Fetch-Mode:
 * navigate`, or a GET whose Accept names text/html) refused by the gate gets
 * an HTML page; every other client the JSON of {@link toResponse}. Both come
 * from the same {@link GateError}, so the status and the headers (security
 * headers, Retry-After, RateLimit-*, WWW-Authenticate, Allow, `no-store`) are
 * identical; only the body differs. §9 lists 400, 403, 404, 405, 429, 431, 500
 * and 503; a page is rendered for *every* status of the gate's errors, 401,
 * 421 and 502 included, since a navigation may meet those too (an OpenID
 * Connect callback that fails, §10; a gate endpoint opened without a session).
 * With `error_page`, the origin renders the page instead (the gate's status
 * and headers, the origin's body), except for `bad_gateway`: an origin that
 * could not be reached is not asked again. A refusal of a Hono built-in keeps
 * its own response.
 */
export function createErrorRenderer(options: ErrorRendererOptions): ErrorRenderer {
  const { loginPath, errorPage, origin, log } = options;
  const fromOrigin = errorPage ? createOriginPage({ path: errorPage, origin, log, timeoutMs: options.errorPageTimeoutMs }) : undefined;

  return async function renderError(error, c) {
    const refusal = toGateError(error);
    if (!refusal || !isNavigation(c.req.raw)) return toResponse(error);
    const requestId = c.get("requestId") || undefined;
    const page = refusal.code === "bad_gateway" ? undefined : await fromOrigin?.(refusal, c, requestId);
    if (page) return refusal.respond(page.body, page.contentType);
    const text = pageText(refusal.code, { retryAfter: retryAfter(refusal), loginHref: loginHref(loginPath, refusal, c) });
    return refusal.respond(errorPageHtml(text, requestId), "text/html; charset=utf-8");
  };
}

/** The error's `Retry-After` in whole seconds, when it has one. */
function retryAfter(error: GateError): number | undefined {
  const seconds = Number(error.headers["Retry-After"]);
  return Number.isSafeInteger(seconds) && seconds >= 0 ? seconds : undefined;
}

/**
 * The login page, with `next` back to this page when it is a local path the
 * user can return to: not one of the gate's own (`/_gate/…`: going back to an
 * OpenID Connect callback would replay a used code), nor a path before it was
 * normalised (the request was refused before that, and there is no page to
 * go back to).
 */
function loginHref(loginPath: string | undefined, error: GateError, c: Context<GateEnv>): string | undefined {
  if (!loginPath) return undefined;
  const reauth = error.code === "reauthentication_required";
  const path = c.get("path");
  if (typeof path !== "string" || !/^\/(?![/\\])/.test(path) || c.get("gatePath")) return reauth ? `${loginPath}?reauth=1` : loginPath;
  return loginUrl(loginPath, path, c.req.url, reauth);
}
