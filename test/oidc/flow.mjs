// Drives the test OpenID Provider (test/oidc/provider.mjs) the way a browser
// would, with nothing but fetch: manual redirects, the provider's own cookies,
// its login form and its logout confirmation form. Web APIs only, so the same
// code runs in Node (the harness's POST /__test/login uses it) and in workerd
// (a gate test imports it and passes the provider's URLs).
//
// It never follows a redirect that leaves the provider's origin: the redirect
// back to the relying party (…/callback?code=…, or post_logout_redirect_uri)
// is returned, not fetched, so the gate under test can be handed it.

/** A cookie jar for one site, keyed by name and path, as RFC 6265 scopes them (domain is ignored). */
export function createCookieJar() {
  /** @type {Map<string, { name: string, value: string, path: string }>} */
  const cookies = new Map();
  const pathMatches = (cookiePath, requestPath) =>
    requestPath === cookiePath || (requestPath.startsWith(cookiePath) && (cookiePath.endsWith("/") || requestPath[cookiePath.length] === "/"));
  return {
    /** Stores (or deletes) what a response's Set-Cookie headers say. */
    store(response, requestUrl) {
      for (const line of response.headers.getSetCookie()) {
        const [pair, ...attributes] = line.split(";");
        const eq = pair.indexOf("=");
        const name = pair.slice(0, eq).trim();
        const value = pair.slice(eq + 1).trim();
        let path = new URL(requestUrl).pathname.replace(/\/[^/]*$/, "") || "/";
        let expired = value === "";
        for (const attribute of attributes) {
          const [key, ...rest] = attribute.split("=");
          const attrValue = rest.join("=").trim();
          const lower = key.trim().toLowerCase();
          if (lower === "path" && attrValue.startsWith("/")) path = attrValue;
          if (lower === "max-age" && Number(attrValue) <= 0) expired = true;
          if (lower === "expires" && Date.parse(attrValue) <= Date.now()) expired = true;
        }
        if (expired) cookies.delete(`${name}\0${path}`);
        else cookies.set(`${name}\0${path}`, { name, value, path });
      }
    },
    /** The Cookie header for a request to `url` (longest paths first), or "" when none apply. */
    header(url) {
      const path = new URL(url).pathname;
      return [...cookies.values()]
        .filter((cookie) => pathMatches(cookie.path, path))
        .sort((a, b) => b.path.length - a.path.length)
        .map((cookie) => `${cookie.name}=${cookie.value}`)
        .join("; ");
    },
    /** Every stored cookie, for inspection or to carry the jar across requests. */
    list: () => [...cookies.values()].map((cookie) => ({ ...cookie })),
    /** Adds cookies listed by an earlier jar's list(). */
    load(list) {
      for (const cookie of list) cookies.set(`${cookie.name}\0${cookie.path}`, { ...cookie });
    },
  };
}

const decodeHtml = (text) =>
  text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");

/** The first `<form>` in `html`: its action and its hidden inputs, or undefined. */
export function parseForm(html) {
  const form = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) return undefined;
  const attr = (tag, name) => decodeHtml(new RegExp(`\\b${name}="([^"]*)"`, "i").exec(tag)?.[1] ?? "");
  const fields = {};
  for (const [input] of form[2].matchAll(/<input\b[^>]*>/gi)) {
    if (attr(input, "type").toLowerCase() === "hidden") fields[attr(input, "name")] = attr(input, "value");
  }
  return { action: attr(form[1], "action"), id: attr(form[1], "id"), fields };
}

/**
 * Requests `url` and follows redirects within the provider's origin, filling in
 * forms with `submit(form)` (which returns the fields to POST, or undefined).
 * Resolves with `{ location, steps }` at the first redirect leaving the origin,
 * or `{ page: { url, status, html }, steps }` at a page with no form to submit.
 */
async function walk(url, { fetch, cookies, maxSteps, submit }) {
  const origin = new URL(url).origin;
  const steps = [];
  let request = { url, method: "GET", body: undefined };
  for (let step = 0; step < maxSteps; step++) {
    const headers = new Headers();
    const cookie = cookies.header(request.url);
    if (cookie) headers.set("cookie", cookie);
    if (request.body) headers.set("content-type", "application/x-www-form-urlencoded");
    const response = await fetch(request.url, { method: request.method, headers, body: request.body, redirect: "manual" });
    cookies.store(response, request.url);
    steps.push({ method: request.method, url: request.url, status: response.status });
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      const next = new URL(location, request.url);
      if (next.origin !== origin) return { location: next.href, steps };
      request = { url: next.href, method: "GET", body: undefined };
      continue;
    }
    const html = await response.text();
    const form = response.status === 200 ? parseForm(html) : undefined;
    const fields = form && submit(form);
    if (!fields) return { page: { url: request.url, status: response.status, html }, steps };
    request = { url: new URL(form.action, request.url).href, method: "POST", body: new URLSearchParams(fields).toString() };
  }
  throw new Error(`no redirect out of ${origin} after ${maxSteps} steps: ${steps.map((s) => s.url).join(" → ")}`);
}

/** The error for a walk that stopped at a page it could not get past. */
function stuck({ page, steps }) {
  const trail = steps.map((s) => `${s.method} ${s.url} → ${s.status}`).join("\n  ");
  return new Error(`the provider answered ${page.status} at ${page.url} and no form applies:\n  ${trail}\n${page.html.slice(0, 600)}`);
}

/**
 * Completes an authorization request without a browser: GET `authorizationUrl`,
 * then the provider's redirects (interaction, login form with `login`, resume,
 * auto-granted consent, resume) until it redirects to the relying party.
 * Resolves with that redirect: `{ callbackUrl, code, state, iss, error, cookies, steps }`;
 * `cookies` (a createCookieJar) now holds the provider's session, for a later
 * login without a prompt or for completeLogout.
 * @param {string | URL} authorizationUrl
 * @param {{ login?: string, fetch?: typeof fetch, cookies?: ReturnType<typeof createCookieJar>, maxSteps?: number }} [options]
 */
export async function completeLogin(authorizationUrl, { login, fetch = globalThis.fetch, cookies = createCookieJar(), maxSteps = 12 } = {}) {
  const walked = await walk(String(authorizationUrl), {
    fetch,
    cookies,
    maxSteps,
    submit(form) {
      if (!/\/interaction\/[^/]+\/login$/.test(new URL(form.action, "http://x").pathname)) return undefined;
      if (login === undefined) throw new Error("the provider shows its login form; pass `login` (or use login_hint with autoLogin)");
      return { ...form.fields, login };
    },
  });
  if (walked.page) throw stuck(walked);
  const { location, steps } = walked;
  const callback = new URL(location);
  const param = (name) => callback.searchParams.get(name) ?? undefined;
  return { callbackUrl: location, code: param("code"), state: param("state"), iss: param("iss"), error: param("error"), cookies, steps };
}

/**
 * RP-initiated logout without a browser: GET `endSessionUrl` (the provider's
 * end_session_endpoint with id_token_hint / client_id, post_logout_redirect_uri,
 * state) carrying the provider's cookies, then POST its confirmation form with
 * logout=yes (sign out of every client; back-channel logout tokens go out).
 * Resolves with `{ location, steps }`: post_logout_redirect_uri (?state=…), or
 * the provider's own success page when none was given.
 * @param {string | URL} endSessionUrl
 * @param {{ cookies: ReturnType<typeof createCookieJar>, fetch?: typeof fetch, maxSteps?: number }} options
 */
export async function completeLogout(endSessionUrl, { cookies, fetch = globalThis.fetch, maxSteps = 6 }) {
  let confirmed = false;
  const walked = await walk(String(endSessionUrl), {
    fetch,
    cookies,
    maxSteps,
    submit(form) {
      if (confirmed || !("xsrf" in form.fields)) return undefined;
      confirmed = true;
      return { ...form.fields, logout: "yes" };
    },
  });
  // Without post_logout_redirect_uri the provider ends on its own success page.
  if (walked.page && !(confirmed && walked.page.status === 200 && /\/session\/end\/success/.test(walked.page.url))) throw stuck(walked);
  return { location: walked.location ?? walked.page.url, steps: walked.steps };
}
