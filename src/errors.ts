import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { StoreUnavailableError } from "./store/types";

/** Every error the gate answers with; the body is `{"error": code}` (contract §5). */
export type ErrorCode =
  | "unauthenticated"
  | "forbidden"
  | "device_binding_required"
  | "reauthentication_required"
  | "csrf"
  | "rate_limited"
  | "unavailable"
  | "bad_request"
  | "method_not_allowed"
  | "not_found"
  | "misdirected_request"
  | "request_header_fields_too_large"
  | "bad_gateway"
  | "misconfigured"
  | "internal_error";

const STATUS: Record<ErrorCode, ContentfulStatusCode> = {
  unauthenticated: 401,
  forbidden: 403,
  device_binding_required: 403,
  reauthentication_required: 401,
  csrf: 403,
  rate_limited: 429,
  unavailable: 503,
  bad_request: 400,
  method_not_allowed: 405,
  not_found: 404,
  misdirected_request: 421,
  request_header_fields_too_large: 431,
  bad_gateway: 502,
  misconfigured: 500,
  internal_error: 500,
};

/** Seconds a client should wait before retrying while the store is unreachable. */
export const STORE_RETRY_AFTER = "5";

/** Extra response headers an error carries (Retry-After, Allow, WWW-Authenticate). */
export type ErrorHeaders = Record<string, string>;

/**
 * The gate's one error type. Thrown anywhere in the pipeline and turned into
 * a response in one place ({@link toResponse}); the body names only the code,
 * the reason goes to the log. It is a Hono `HTTPException`, so Hono and its
 * middleware treat it as a deliberate answer, never as a crash.
 */
export class GateError extends HTTPException {
  override readonly name = "GateError";
  readonly headers: ErrorHeaders;
  constructor(
    readonly code: ErrorCode,
    headers: ErrorHeaders = {},
  ) {
    super(STATUS[code], { message: code });
    this.headers = code === "unavailable" ? { "Retry-After": STORE_RETRY_AFTER, ...headers } : headers;
  }

  /** The JSON response: `{"error": code}`, never cached. */
  override getResponse(): Response {
    return this.respond(JSON.stringify({ error: this.code }), "application/json");
  }

  /**
   * This error's response with another body (the HTML page of a navigation,
   * contract §9): the status and headers are the JSON response's, so the two
   * can never drift apart; only the body and its Content-Type differ.
   */
  respond(body: BodyInit, contentType: string): Response {
    const headers = new Headers({ "Content-Type": contentType, "Cache-Control": "no-store", ...this.headers });
    return new Response(body, { status: this.status, headers });
  }
}

/**
 * What anything thrown in the pipeline means to the client, in one switch:
 * the gate's own errors as they are; a store outage as 503 `unavailable`
 * with Retry-After (the only place an outage becomes a 503); anything else
 * but a Hono built-in's refusal as 500 `internal_error`, with no stack trace.
 * `undefined` for that refusal: it keeps its own status and response.
 */
export function toGateError(error: unknown): GateError | undefined {
  if (error instanceof GateError) return error;
  if (error instanceof StoreUnavailableError) return new GateError("unavailable");
  if (error instanceof HTTPException) return undefined;
  return new GateError("internal_error");
}

/**
 * Turns anything thrown in the pipeline into the client's JSON response (contract
 * §5), by {@link toGateError}. A navigation gets the same status and headers with
 * an HTML body instead (src/http/error-page.ts, contract §9).
 */
export function toResponse(error: unknown): Response {
  return (toGateError(error) ?? (error as HTTPException)).getResponse();
}
