import type { ErrorCode } from "../errors";

/**
 * The largest single request header the gate accepts, name and value, in
 * bytes. Cloudflare's edge lets up to 128 KB of headers through to a Worker,
 * far more than origins take (nginx: 8 KiB a line, Apache: 8190 bytes), so the
 * gate sets its own bound: a browser's Cookie header stays well under it
 * (about 4 KiB a cookie), and an oversized one is refused with a clear 431
 * here rather than an opaque failure further in.
 */
export const MAX_HEADER_BYTES = 16 * 1024;

/** The largest total of all request headers (names and values), in bytes. */
export const MAX_HEADERS_BYTES = 32 * 1024;

/** RFC 9110 §5.1: a field name is a token. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const encoder = new TextEncoder();
/** UTF-8 bytes of a header value, without an allocation for the usual all-ASCII one. */
const byteLength = (text: string) => (/[\u0080-\uffff]/.test(text) ? encoder.encode(text).byteLength : text.length);

/** Why a request's headers are refused, and with which error. */
export interface HeaderRefusal {
  code: Extract<ErrorCode, "bad_request" | "request_header_fields_too_large">;
  reason: "invalid_header_name" | "header_too_large" | "headers_too_large";
  /** The offending header's name (cut to 64 characters), for the log. */
  header?: string;
}

/**
 * Checks the request's headers before anything reads them: a name that is not
 * an HTTP token (workerd accepts `x-gate-uſer` or fullwidth look-alikes, which
 * an origin might fold into a name the gate strips) is a malformed request
 * (400); one header over {@link MAX_HEADER_BYTES} or all of them over
 * {@link MAX_HEADERS_BYTES} get 431. Returns `undefined` when they are fine.
 */
export function inspectHeaders(headers: Headers): HeaderRefusal | undefined {
  let total = 0;
  for (const [name, value] of headers) {
    if (!TOKEN.test(name)) return { code: "bad_request", reason: "invalid_header_name", header: name.slice(0, 64) };
    const size = name.length + byteLength(value);
    if (size > MAX_HEADER_BYTES) return { code: "request_header_fields_too_large", reason: "header_too_large", header: name.slice(0, 64) };
    total += size;
  }
  return total > MAX_HEADERS_BYTES ? { code: "request_header_fields_too_large", reason: "headers_too_large" } : undefined;
}
