import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { StoreUnavailableError } from "./store/types";

/** Every error the gate answers with; the body is `{"error": code}` (contract §5). */
export type ErrorCode =
  | "unauthenticated"
  | "forbidden"
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
    const headers = new Headers({ "Content-Type": "application/json", "Cache-Control": "no-store", ...this.headers });
    return new Response(JSON.stringify({ error: this.code }), { status: this.status, headers });
  }
}

/**
 * Turns anything thrown in the pipeline into the client's response, in one
 * switch: the gate's own errors as they are; a store outage as 503
 * `unavailable` with Retry-After (the only place an outage becomes a 503);
 * a refusal from a Hono built-in with its own status; anything else as 500
 * `internal_error`, with no stack trace.
 */
export function toResponse(error: unknown): Response {
  if (error instanceof GateError) return error.getResponse();
  if (error instanceof StoreUnavailableError) return new GateError("unavailable").getResponse();
  if (error instanceof HTTPException) return error.getResponse();
  return new GateError("internal_error").getResponse();
}
