/**
 * Request headers the gate removes before forwarding because some proxy,
 * server or framework reads them as the original URL or path, the request's
 * method, the client's address, or the original host, scheme or port. A
 * client could otherwise make the origin believe another path (and another
 * route's policy), another method, another address or another host.
 * Names are canonical: lower case, `_` read as `-` (src/proxy/strip.ts).
 * docs/headers.md lists each with who reads it.
 */

/** Headers named exactly. */
export const SPOOFABLE_HEADERS: readonly string[] = [
  // The original URL or path: IIS URL Rewrite, ISAPI_Rewrite, old Symfony, nginx auth_request, Traefik, APISIX, Envoy.
  "x-original-url",
  "x-original-uri",
  "x-rewrite-url",
  "x-original-prefix",
  // The method: Rack::MethodOverride, Symfony, express method-override, ASP.NET, ingress-nginx.
  "x-http-method-override",
  "x-http-method",
  "x-method-override",
  "x-original-method",
  // The client's address: request-ip, Rails RemoteIp, Akamai, Fastly, Azure Front Door, CloudFront, App Engine, …
  "forwarded",
  "forwarded-for",
  "x-real-ip",
  "x-client-ip",
  "client-ip",
  "x-cluster-client-ip",
  "true-client-ip",
  "x-original-for",
  "x-proxyuser-ip",
  "x-originating-ip",
  "x-remote-ip",
  "x-remote-addr",
  "do-connecting-ip",
  "ms-aspnetcore-clientcert",
  // The original host, scheme or port: mod_rpaf, ASP.NET Core, WSGI and PHP conventions, Microsoft's Front-End-Https.
  "x-host",
  "x-original-host",
  "x-url-scheme",
  "x-scheme",
  "front-end-https",
  // The gate sets its own request id.
  "x-request-id",
];

/**
 * Header name prefixes: each family is read by someone as one of the above,
 * or is a CDN's or load balancer's own (Cloudflare sets its `cf-*` headers on
 * the gate's subrequest itself; a client's copies are never passed on).
 */
export const SPOOFABLE_PREFIXES: readonly string[] = [
  "x-gate-",
  "x-forwarded", // -for, -host, -proto, -port, -prefix, -uri, -method, -server, -ssl, -scheme, -client-cert, and bare x-forwarded
  "x-original-", // -forwarded-for and whatever else a proxy keeps the original in
  "x-envoy-",
  "x-arr-",
  "x-azure-",
  "x-fd-",
  "x-amzn-",
  "x-amz-cf-",
  "cloudfront-",
  "x-akamai-",
  "akamai-",
  "fastly-",
  "x-appengine-",
  "x-google-",
  "x-goog-",
  "x-cloud-trace-",
  "x-accel-",
  "cf-",
  "cdn-loop",
];
