import type { Handler } from "hono";
import type { GateEnv } from "../http/context";
import { type OidcDeps, providerOf } from "./deps";
import { OidcFailure, failed } from "./failure";
import { badLogoutToken, verifyLogoutToken } from "./logout-token";
import { markKey, sessionsFor } from "./marks";

/** A logout token is a few hundred bytes; a body past this is not one. */
const MAX_BODY_BYTES = 16 * 1024;
/** A claimed `jti` is kept at least this long (KV's shortest TTL is 60 s). */
const MIN_JTI_TTL_MS = 60_000;

/** The body as text, read no further than {@link MAX_BODY_BYTES} (a chunked body has no Content-Length to check first). */
async function boundedText(request: Request): Promise<string> {
  const reader = request.body?.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (let read = await reader?.read(); read && !read.done; read = await reader?.read()) {
    size += read.value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader?.cancel();
      throw badLogoutToken("too_large");
    }
    chunks.push(read.value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

/** The `logout_token` form field, sent exactly once in a small urlencoded body (§2.5). */
async function logoutTokenOf(request: Request): Promise<string> {
  const type = (request.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") throw new OidcFailure("bad_request", "logout_token_missing", "content_type");
  if (Number(request.headers.get("content-length") ?? 0) > MAX_BODY_BYTES) throw badLogoutToken("too_large");
  const tokens = new URLSearchParams(await boundedText(request)).getAll("logout_token");
  if (tokens.length !== 1 || tokens[0] === "") throw new OidcFailure("bad_request", "logout_token_missing");
  return tokens[0];
}

/**
 * `POST /_gate/oidc/<name>/backchannel-logout` (OpenID Connect Back-Channel
 * Logout 1.0): the provider, server to server, says a session of its own
 * ended. A valid logout token, its `jti` accepted once, ends the sessions
 * created from that provider session (`sid`), or with `sub` alone every
 * session of that user from that provider; 200 with `Cache-Control: no-store`.
 * Anything else: 400 (503 when the provider's keys cannot be fetched).
 * Not CSRF-checked (no cookie is involved); rate-limited like every request.
 */
export function oidcBackchannelLogout(deps: OidcDeps): Handler<GateEnv> {
  return async function oidcBackchannelLogout(c) {
    const provider = providerOf(deps.config, c);
    const fields = { provider: provider.name, step: "backchannel_logout", request_id: c.get("requestId") };
    try {
      const token = await logoutTokenOf(c.req.raw);
      const verified = await verifyLogoutToken(token, provider, await deps.discovery(provider), deps.now());
      const ttl = Math.max(MIN_JTI_TTL_MS, verified.keepUntil * 1_000 - deps.now());
      const jti = await markKey("jti", provider.name, verified.jti);
      if ((await deps.store.getMark(jti)) !== null) throw new OidcFailure("bad_request", "logout_token_replayed");
      const ended = await sessionsFor(deps.store, provider, verified.subject);
      await Promise.all(ended.map((session) => deps.sessions.revoke(session, "idp_logout")));
      // Claimed once the sessions are ended, not before: a store failing halfway answers 503, and the provider's
      // retry must not find the token spent. Two deliveries at once both end the same sessions, which is harmless.
      await deps.store.claimMark(jti, ttl);
      deps.log("oidc.backchannel_logout", { ...fields, by: "sid" in verified.subject ? "sid" : "sub", sids: ended.map((session) => session.sid) });
      return c.body(null, 200, { "Cache-Control": "no-store" });
    } catch (error) {
      throw failed(error, deps.log, fields);
    }
  };
}
