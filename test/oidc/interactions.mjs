// The test provider's interaction pages (oidc-provider's devInteractions are
// off): a plain HTML login form (a username field and a submit button, for the
// Chromium tests), a login_hint shortcut when auto-login is on (for tests
// without a browser), and consent that is always granted. Also the logout
// confirmation and post-logout pages. See provider.mjs for the whole flow.

const escapeHtml = (value) =>
  String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

const page = (title, body) =>
  `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>\n<body>\n${body}\n</body></html>\n`;

/** The login page: form#login-form with input#login (name "login") and button#login-submit. */
export function loginPage({ uid, clientId, loginHint, error }) {
  return page(
    "Sign in - Gatehouse test OpenID Provider",
    `<h1>Sign in</h1>
<p>to continue to <code id="client-id">${escapeHtml(clientId)}</code></p>
${error ? `<p id="login-error" role="alert">${escapeHtml(error)}</p>` : ""}
<form id="login-form" method="post" action="/interaction/${escapeHtml(uid)}/login">
  <label for="login">Username</label>
  <input id="login" name="login" autocomplete="username" autofocus required value="${escapeHtml(loginHint)}">
  <button id="login-submit" type="submit">Sign in</button>
</form>
<p><a id="login-abort" href="/interaction/${escapeHtml(uid)}/abort">Cancel</a></p>`,
  );
}

/** oidc-provider's rpInitiatedLogout.logoutSource: its form (#op.logoutForm, hidden xsrf) and two buttons. */
export async function logoutSource(ctx, form) {
  ctx.type = "html";
  ctx.body = page(
    "Sign out - Gatehouse test OpenID Provider",
    `<h1>Sign out of ${escapeHtml(ctx.host)}?</h1>
${form}
<button id="logout-yes" type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>
<button id="logout-no" type="submit" form="op.logoutForm">No, stay signed in</button>`,
  );
}

/** oidc-provider's rpInitiatedLogout.postLogoutSuccessSource. */
export async function postLogoutSuccessSource(ctx) {
  ctx.type = "html";
  ctx.body = page("Signed out", `<h1 id="signed-out">Signed out</h1><p>${escapeHtml(ctx.oidc.client?.clientId ?? "")}</p>`);
}

/** oidc-provider's renderError: the error as plain HTML, easy to read in a failing test. */
export async function renderError(ctx, out) {
  ctx.type = "html";
  ctx.body = page("Error", `<h1 id="op-error">${escapeHtml(out.error)}</h1><pre>${escapeHtml(JSON.stringify(out, null, 2))}</pre>`);
}

/** Reads an application/x-www-form-urlencoded or JSON request body. */
export async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 1 << 20) throw Object.assign(new Error("request body over 1 MiB"), { status: 413 });
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (String(req.headers["content-type"] ?? "").includes("json")) {
    try {
      return text ? JSON.parse(text) : {};
    } catch {
      throw Object.assign(new Error("the body is not JSON"), { status: 400 });
    }
  }
  return Object.fromEntries(new URLSearchParams(text));
}

const send = (res, status, html) => res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" }).end(html);

/**
 * Serves /interaction/:uid, /interaction/:uid/login and /interaction/:uid/abort
 * for `provider`. `findUser(login)` resolves a typed username (or login_hint)
 * to a user with a `sub`; `autoLogin()` says whether a login_hint naming a
 * known user completes the login prompt at once, without the form.
 */
export function createInteractions({ provider, findUser, autoLogin }) {
  async function grantConsent(req, res, details) {
    const { prompt, params, session, grantId } = details;
    const grant = grantId ? await provider.Grant.find(grantId) : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(" "));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(" "));
    const saved = await grant.save();
    await provider.interactionFinished(req, res, { consent: grantId ? {} : { grantId: saved } }, { mergeWithLastSubmission: true });
  }

  const login = (req, res, user) => provider.interactionFinished(req, res, { login: { accountId: user.sub } }, { mergeWithLastSubmission: false });

  /** Handles the request when it is an interaction route; resolves false otherwise. */
  return async function handle(req, res, url) {
    const match = /^\/interaction\/([^/]+)(\/login|\/abort)?$/.exec(url.pathname);
    if (!match) return false;
    const [, uid, action] = match;
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) return (send(res, 400, page("Error", "<h1>interaction mismatch</h1>")), true);
    const view = { uid, clientId: details.params.client_id, loginHint: details.params.login_hint };

    if (action === "/abort") {
      await provider.interactionFinished(
        req,
        res,
        { error: "access_denied", error_description: "End-User aborted interaction" },
        { mergeWithLastSubmission: false },
      );
    } else if (action === "/login") {
      if (req.method !== "POST") return (send(res, 405, page("Error", "<h1>use POST</h1>")), true);
      const { login: typed = "" } = await readBody(req);
      const user = findUser(String(typed).trim());
      if (!user) send(res, 401, loginPage({ ...view, loginHint: typed, error: `unknown user ${JSON.stringify(typed)}` }));
      else await login(req, res, user);
    } else if (details.prompt.name === "login") {
      const hinted = autoLogin() && view.loginHint ? findUser(view.loginHint) : undefined;
      if (hinted) await login(req, res, hinted);
      else send(res, 200, loginPage(view));
    } else if (details.prompt.name === "consent") {
      await grantConsent(req, res, details);
    } else {
      send(res, 400, page("Error", `<h1>unsupported prompt ${escapeHtml(details.prompt.name)}</h1>`));
    }
    return true;
  };
}
