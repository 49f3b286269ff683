/**
 * The client's address: `CF-Connecting-IP`, set by Cloudflare's edge and not
 * forgeable by the client. `X-Forwarded-For`, `X-Real-IP` and `Forwarded` are
 * never read. Locally (wrangler dev, tests) the header may be absent.
 */
export function clientIp(request: Request): string {
  return request.headers.get("cf-connecting-ip") ?? "unknown";
}

/** A navigation gets a redirect to the login page; anything else gets 401 (contract §5). */
export function isNavigation(request: Request): boolean {
  if (request.headers.get("sec-fetch-mode") === "navigate") return true;
  return (request.method === "GET" || request.method === "HEAD") && (request.headers.get("accept") ?? "").includes("text/html");
}
