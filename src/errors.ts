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
  | "request_header_fields_too_large"
  | "bad_gateway"
  | "misconfigured"
  | "internal_error";

const STATUS: Record<ErrorCode, number> = {
  unauthenticated: 401,
  forbidden: 403,
  reauthentication_required: 401,
  csrf: 403,
  rate_limited: 429,
  unavailable: 503,
  bad_request: 400,
  method_not_allowed: 405,
  not_found: 404,
  request_header_fields_too_large: 431,
  bad_gateway: 502,
  misconfigured: 500,
  internal_error: 500,
};

/** Extra response headers an error carries (Retry-After, Allow, a cleared cookie). */
export type ErrorHeaders = Record<string, string>;

/**
 * The gate's one error type. Thrown anywhere in the pipeline, turned into a
 * response in one place ({@link errorResponse}); the body names only the code,
 * the reason goes to the log.
 */
export class GateError extends Error {
  override readonly name = "GateError";
  constructor(
    readonly code: ErrorCode,
    readonly headers: ErrorHeaders = {},
  ) {
    super(code);
  }
}

/** The JSON response for an error. */
export function errorResponse(error: GateError): Response {
  const headers = new Headers({ "Content-Type": "application/json", "Cache-Control": "no-store", ...error.headers });
  return new Response(JSON.stringify({ error: error.code }), { status: STATUS[error.code], headers });
}
