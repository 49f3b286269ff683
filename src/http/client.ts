/**
 * The client's address: `CF-Connecting-IP`, set by Cloudflare's edge and not
 * forgeable by the client. `X-Forwarded-For`, `X-Real-IP` and `Forwarded` are
 * never read. Locally (wrangler dev, tests) the header may be absent.
 */
export function clientIp(request: Request): string {
  return request.headers.get("cf-connecting-ip") ?? "unknown";
}

/**
 * A CORS preflight (contract §14): OPTIONS with `Access-Control-Request-Method`
 * and no credentials (browsers never send cookies or Authorization on one).
 * It asks the origin which cross-origin requests it allows, so it reaches the
 * origin on session routes without a session, and without identity.
 */
export function isPreflight(request: Request): boolean {
  const { headers } = request;
  return request.method === "OPTIONS" && headers.has("access-control-request-method") && !headers.has("cookie") && !headers.has("authorization");
}

/** A WebSocket handshake (RFC 6455 §4.1: a GET with `Upgrade: websocket`). */
export function isWebSocketUpgrade(request: Request): boolean {
  return request.method === "GET" && request.headers.get("upgrade")?.toLowerCase() === "websocket";
}

/** A navigation gets a redirect to the login page; anything else gets 401 (contract §5). */
export function isNavigation(request: Request): boolean {
  if (request.headers.get("sec-fetch-mode") === "navigate") return true;
  return (request.method === "GET" || request.method === "HEAD") && (request.headers.get("accept") ?? "").includes("text/html");
}
