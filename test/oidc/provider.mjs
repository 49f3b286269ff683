// A real, certified OpenID Provider (oidc-provider, by panva) for the gate's
// OIDC tests: code flow with PKCE, back-channel logout 1.0 and RP-initiated
// logout, on http://127.0.0.1:<port> (issuer = that origin), started in Node
// (vitest globalSetup or node:test) and reached over fetch, from workerd too.
// Two clients: a confidential one (client_secret_basic) and a public one
// (token_endpoint_auth_method none, PKCE required). Consent is always granted.
// Nothing leaves the machine: back-channel logouts are recorded, not sent.
//
// A full code flow without a browser (test/oidc/flow.mjs does this; so does
// POST /__test/login), each a fetch with redirect: "manual", sending the
// provider's own cookies back (path-scoped; flow.mjs has a jar):
//  1. GET {issuer}/auth?response_type=code&client_id=…&redirect_uri=…
//       &scope=openid email profile groups&state=…&nonce=…
//       &code_challenge=…&code_challenge_method=S256[&login_hint=alice]
//     → 303 Location /interaction/{uid}; Set-Cookie _interaction (path
//       /interaction/{uid}), _interaction_resume (path /auth/{uid}), + .sig
//  2. GET /interaction/{uid} → 200, the login form (form#login-form, POST to
//       /interaction/{uid}/login, field "login"). With auto-login on (option
//       autoLogin or POST /__test/auto-login) and login_hint naming a user:
//       303 Location {issuer}/auth/{uid} at once (skip step 3).
//  3. POST /interaction/{uid}/login, body login=alice (urlencoded)
//     → 303 Location {issuer}/auth/{uid} (401 + the form for an unknown user)
//  4. GET /auth/{uid} → Set-Cookie _session; 303 Location /interaction/{uid2}
//  5. GET /interaction/{uid2} (consent) → granted: 303 Location /auth/{uid2}
//  6. GET /auth/{uid2} → 303 Location {redirect_uri}?code=…&state=…&iss=…
//     Stop there: hand that URL to the gate's callback. The _session cookie
//     lets a later /auth pass without a prompt and is what end_session needs.
// Logout: GET {issuer}/session/end?id_token_hint=…&post_logout_redirect_uri=…
// &state=… with the cookies → 200 form (#op.logoutForm, hidden xsrf); POST
// /session/end/confirm xsrf=…&logout=yes → back-channel logout tokens are
// recorded (GET /__test/backchannel-logouts) → 303 post_logout_redirect_uri.
//
// Control endpoints (loopback only, no auth, JSON in and out, camelCase):
//  GET  /__test/info                      issuer, clients, users, key ids, faults
//  POST /__test/users {users, replace}    define users (claims) for findAccount
//  POST /__test/auto-login {enabled}      login_hint completes the login prompt
//  POST /__test/fault {target, mode}      discovery|jwks|authorization|token|userinfo|end_session|all;
//                                         normal|http500|hang|garbage
//  POST /__test/keys {publishNext}        publish the "next" key in the JWKS
//  POST /__test/mint {type, claims, relative, header, key, clientId} → {token, header, payload}
//  POST /__test/token-tamper {clientId, claims, relative, header, key, token}  the next token
//                                         response's id_token is re-signed with these changes
//  POST /__test/discovery {overrides, replace}  change discovery fields (null removes)
//  POST /__test/backchannel-logout {sub, sid, clientId} → {logoutToken, uri, claims}
//  GET  /__test/backchannel-logouts?clientId=&sub=&sid=  → {logouts}
//  POST /__test/login {url, login} → {callbackUrl, code, state, iss, error, cookies}
//  POST /__test/logout {url, cookies} → {location, logouts}
//  POST /__test/reset                     faults, tampers, next key, auto-login, recorded logouts
// Faults, tampers and users are per provider, seen by every test using it:
// start one per concern in globalSetup (say a shared one and one that outage
// tests own, as test/redis/global-setup.ts does for Redis).
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import Provider from "oidc-provider";
import { createTestAdapter } from "./adapter.mjs";
import { ControlError, createFaults, createKeys, createOutbox, createTampers, mintToken } from "./control.mjs";
import { createCookieJar, completeLogin, completeLogout } from "./flow.mjs";
import { createInteractions, logoutSource, postLogoutSuccessSource, readBody, renderError } from "./interactions.mjs";

export { BACKCHANNEL_LOGOUT_EVENT, FAULT_MODES, FAULT_TARGETS, MINT_KEYS } from "./control.mjs";

/** Users the provider knows unless told otherwise. */
export const DEFAULT_USERS = [
  { sub: "alice", email: "alice@example.com", email_verified: true, name: "Alice Example", groups: ["staff", "admins"] },
  { sub: "bob", email: "bob@example.com", email_verified: false, name: "Bob Example", groups: [] },
];
/** Scope → claims; "groups" is a scope of its own. */
const CLAIMS = { openid: ["sub"], email: ["email", "email_verified"], profile: ["name", "preferred_username"], groups: ["groups"] };
const ROUTES = [
  ["discovery", /^\/\.well-known\/openid-configuration$/],
  ["jwks", /^\/jwks$/],
  ["authorization", /^\/auth(\/|$)/],
  ["token", /^\/token$/],
  ["userinfo", /^\/me$/],
  ["end_session", /^\/session\/end(\/|$)/],
];
const LOOPBACK = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);
const targetFor = (path) => ROUTES.find(([, pattern]) => pattern.test(path))?.[0];
const sendJson = (res, status, body) =>
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify(body));

/**
 * Starts the provider on 127.0.0.1 (`port`, 0 = a free one). Options: the
 * clients' `redirectUris`, `postLogoutRedirectUris`, `backchannelLogoutUri`
 * (+ `backchannelLogoutSessionRequired`, default true), `clientId` /
 * `clientSecret` / `publicClientId`, `extraClients` (raw client metadata),
 * `users` (DEFAULT_USERS), `autoLogin`, `conformIdTokenClaims` (false: scope
 * claims go into the ID token), `idTokenTtl`, `hangTimeoutMs`. See
 * provider.d.mts for the handle it resolves with.
 */
export async function startProvider({
  port = 0,
  redirectUris = ["https://gate.example/_gate/oidc/corp/callback"],
  postLogoutRedirectUris = ["https://gate.example/"],
  backchannelLogoutUri = "https://gate.example/_gate/oidc/corp/backchannel-logout",
  backchannelLogoutSessionRequired = true,
  clientId = "gate-confidential",
  clientSecret = randomBytes(24).toString("base64url"),
  publicClientId = "gate-public",
  extraClients = [],
  users = DEFAULT_USERS,
  autoLogin = false,
  conformIdTokenClaims = false,
  idTokenTtl = 300,
  hangTimeoutMs = 10_000,
} = {}) {
  const keys = await createKeys();
  const faults = createFaults(hangTimeoutMs);
  const outbox = createOutbox();
  const tampers = createTampers();
  const accounts = new Map();
  const setUsers = (list, { replace = false } = {}) => {
    if (!Array.isArray(list) || list.some((user) => typeof user?.sub !== "string" || !user.sub))
      throw new ControlError("users must be an array of objects with a string sub");
    if (replace) accounts.clear();
    for (const user of list) accounts.set(user.sub, { ...user });
  };
  setUsers(users, { replace: true });
  const initialAutoLogin = autoLogin;
  const findUser = (login) =>
    accounts.get(login) ?? [...accounts.values()].find((user) => login && (user.username === login || user.email === login));

  const server = createServer((req, res) => void handle(req, res));
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const bound = server.address().port;
  const issuer = `http://127.0.0.1:${bound}`;
  const common = {
    redirect_uris: redirectUris,
    post_logout_redirect_uris: postLogoutRedirectUris,
    response_types: ["code"],
    grant_types: ["authorization_code"],
  };
  if (backchannelLogoutUri)
    Object.assign(common, { backchannel_logout_uri: backchannelLogoutUri, backchannel_logout_session_required: backchannelLogoutSessionRequired });
  const confidential = { client_id: clientId, client_secret: clientSecret, token_endpoint_auth_method: "client_secret_basic" };
  const publicClient = { client_id: publicClientId, token_endpoint_auth_method: "none" };
  const configuration = {
    clients: [{ ...common, ...confidential }, { ...common, ...publicClient }, ...extraClients],
    adapter: createTestAdapter(),
    jwks: { keys: [keys.provider.privateJwk] },
    cookies: { keys: [randomBytes(32).toString("base64url")] },
    claims: CLAIMS,
    conformIdTokenClaims,
    findAccount: async (_ctx, sub) => {
      const user = accounts.get(sub);
      return user && { accountId: sub, claims: async () => ({ ...user }) };
    },
    features: {
      devInteractions: { enabled: false },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
    },
    interactions: { url: async (_ctx, interaction) => `/interaction/${interaction.uid}` },
    pkce: { required: (_ctx, client) => client.clientAuthMethod === "none" },
    fetch: outbox.fetch,
    renderError,
    clientBasedCORS: () => true,
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      ClientCredentials: 600,
      DeviceCode: 600,
      BackchannelAuthenticationRequest: 600,
      PreAuthorizedCode: 600,
      IdToken: idTokenTtl,
      RefreshToken: 3600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
  };
  let provider;
  try {
    provider = new Provider(issuer, configuration);
  } catch (error) {
    server.close();
    throw error;
  }
  provider.on("server_error", (_ctx, error) => console.error("[test oidc-provider] server_error:", error));
  provider.use(tampers.middleware({ issuer, keys }));
  const callback = provider.callback();
  const interactions = createInteractions({ provider, findUser, autoLogin: () => autoLogin });
  const client = async (id = clientId) => {
    const found = await provider.Client.find(id);
    if (!found) throw new ControlError(`no client ${JSON.stringify(id)}`);
    return found;
  };

  const api = {
    issuer,
    url: issuer,
    port: bound,
    clients: { confidential: { clientId, clientSecret }, public: { clientId: publicClientId } },
    keyIds: { provider: keys.provider.kid, unknown: keys.unknown.kid, next: keys.next.kid },
    provider,
    users: () => [...accounts.values()].map((user) => ({ ...user })),
    setUsers: (list, options) => setUsers(list, options),
    setAutoLogin(enabled) {
      autoLogin = Boolean(enabled);
    },
    setFault: (target, mode) => faults.set(target, mode),
    publishNextKey: (publish) => keys.publishNext(publish),
    async mint(spec = {}) {
      return mintToken({ ...spec, issuer, keys, client: await client(spec.clientId) });
    },
    async backchannelLogout({ sub, sid, clientId: id } = {}) {
      if (typeof sub !== "string") throw new ControlError("backchannelLogout needs a sub");
      const target = await client(id);
      if (!target.backchannelLogoutUri) throw new ControlError(`client ${target.clientId} has no backchannel_logout_uri`);
      const before = outbox.sent.length;
      await target.backchannelLogout(sub, sid);
      return outbox.sent.slice(before).find((entry) => entry.clientId === target.clientId && entry.sub === sub);
    },
    backchannelLogouts: (filter) => outbox.find(filter),
    tamperNextToken: (spec) => tampers.addTokenTamper(spec),
    setDiscovery: (overrides, options) => tampers.setDiscovery(overrides, options),
    async login(url, { login } = {}) {
      const { cookies, steps, ...result } = await completeLogin(url, { login });
      return { ...result, cookies: cookies.list() };
    },
    async logout(url, { cookies = [] } = {}) {
      const jar = createCookieJar();
      jar.load(cookies);
      const before = outbox.sent.length;
      const { location } = await completeLogout(url, { cookies: jar });
      return { location, logouts: outbox.sent.slice(before) };
    },
    reset() {
      faults.clear();
      tampers.clear();
      keys.publishNext(false);
      autoLogin = initialAutoLogin;
      outbox.clear();
    },
    async close() {
      faults.clear();
      await new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };

  const CONTROL = {
    "GET /__test/info": () => ({
      issuer,
      clients: api.clients,
      users: api.users(),
      keyIds: api.keyIds,
      faults: faults.list(),
      nextKeyPublished: keys.nextPublished,
      autoLogin,
    }),
    "POST /__test/users": ({ users: list, replace = false }) => (setUsers(list, { replace }), { users: api.users() }),
    "POST /__test/auto-login": ({ enabled }) => (api.setAutoLogin(enabled), { autoLogin }),
    "POST /__test/fault": ({ target = "all", mode }) => (faults.set(target, mode), { faults: faults.list() }),
    "POST /__test/keys": ({ publishNext }) => (keys.publishNext(publishNext), keys.publicJwks()),
    "POST /__test/mint": (body) => api.mint(body),
    "POST /__test/token-tamper": (body) => ({ queued: api.tamperNextToken(body) }),
    "POST /__test/discovery": ({ overrides, replace }) => ({ overrides: api.setDiscovery(overrides, { replace }) }),
    "POST /__test/backchannel-logout": (body) => api.backchannelLogout(body),
    "GET /__test/backchannel-logouts": (_body, { clientId, sub, sid }) => ({ logouts: api.backchannelLogouts({ clientId, sub, sid }) }),
    "POST /__test/login": ({ url, login }) => api.login(url, { login }),
    "POST /__test/logout": ({ url, cookies }) => api.logout(url, { cookies }),
    "POST /__test/reset": () => (api.reset(), { reset: true }),
  };

  async function handle(req, res) {
    const url = new URL(req.url ?? "/", issuer);
    try {
      if (!LOOPBACK.has(req.socket.remoteAddress)) return sendJson(res, 403, { error: "loopback only" });
      if (url.pathname.startsWith("/__test/")) {
        const route = CONTROL[`${req.method} ${url.pathname}`];
        if (!route) return sendJson(res, 404, { error: `no control endpoint ${req.method} ${url.pathname}` });
        const body = req.method === "POST" ? await readBody(req) : {};
        return sendJson(res, 200, await route(body ?? {}, Object.fromEntries(url.searchParams)));
      }
      if (await interactions(req, res, url)) return;
      const target = targetFor(url.pathname);
      const mode = faults.modeFor(target);
      if (mode === "http500") return res.writeHead(500, { "content-type": "text/plain" }).end(`Internal Server Error (test fault on ${target})`);
      if (mode === "garbage") return res.writeHead(200, { "content-type": "application/json" }).end("<html>this is not JSON</html>");
      if (mode === "hang") {
        await faults.hang(res, target);
        if (!res.destroyed) res.writeHead(504, { "content-type": "text/plain" }).end("held by the hang fault");
        return;
      }
      if (target === "jwks" && keys.nextPublished) return sendJson(res, 200, keys.publicJwks());
      await callback(req, res);
    } catch (error) {
      if (res.headersSent) return void res.destroy();
      const status = error instanceof ControlError ? 400 : (error.status ?? error.statusCode ?? 500);
      sendJson(res, status, {
        error: error.name,
        message: error.message,
        ...(error.error_description ? { description: error.error_description } : {}),
      });
    }
  }

  return api;
}
