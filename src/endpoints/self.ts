import { Hono } from "hono";
import type { Config } from "../config/types";
import { type GateEnv, requireSession } from "../http/context";
import type { SessionManager } from "../session/manager";
import type { Transitions } from "../session/transitions";
import { GateError } from "../errors";
import { clearedCookie } from "../session/cookie";
import { csrfGuard } from "../http/csrf";
import type { Logger } from "../log";
import { listedView, sessionView } from "./views";
import type { EndSession } from "../oidc";

/** Dependencies of the self-service endpoints. */
export interface SelfServiceOptions {
  config: Config;
  sessions: SessionManager;
  transitions: Transitions;
  log: Logger;
  /** RP-initiated logout (src/oidc/rp-logout.ts): where a form logout of a provider's session goes instead, if anywhere. */
  endSession?: EndSession;
}

const FORM_TYPES = /^(application\/x-www-form-urlencoded|multipart\/form-data|text\/plain)\b/i;
/**
 * A path on this site: one leading "/", not "//" or "/\" (browsers read both as
 * another host), visible ASCII only (a tab or newline would be stripped by the
 * URL parser, turning "/\t/evil" into "//evil").
 */
const LOCAL_PATH = /^\/(?![/\\])[\x21-\x7e]*$/;

/**
 * Where a form logout sends the browser: `next` (the query parameter, as in
 * `<form method="post" action="/_gate/logout?next=/bye">`) when it is a local
 * path, else the login page. Never another site: the gate's address must not
 * become an open redirect that lends its name to a phishing page.
 */
export function logoutTarget(next: string | undefined, loginPath: string): string {
  return next !== undefined && LOCAL_PATH.test(next) ? next : loginPath;
}

/**
 * The endpoints a signed-in user calls on their own session (contract §6):
 * `GET /session`, `POST /logout`, `GET /sessions`, `DELETE /sessions/:sid`.
 * Mounted under `/_gate`; never forwarded.
 */
export function selfService(options: SelfServiceOptions) {
  const { config, sessions, transitions, log } = options;
  const app = new Hono<GateEnv>();

  /** Cookie-authenticated state changes need the same-origin proof every route gets. */
  app.on(["POST", "DELETE"], "*", csrfGuard(config, log));

  app.get("/session", (c) => c.json(sessionView(requireSession(c).session)));

  app.post("/logout", async (c) => {
    const ended = c.get("auth");
    await transitions.logout(c, "session");
    c.set("sessionCookie", clearedCookie(config.cookie));
    c.header("Clear-Site-Data", '"cookies"');
    const form = FORM_TYPES.test(c.req.header("content-type") ?? "") || c.req.header("sec-fetch-mode") === "navigate";
    // A browser leaving a provider's session goes on to the provider's logout; an API call (fetch) still gets 204 (docs/oidc.md).
    const provider = form && ended?.status === "valid" ? await options.endSession?.(c, ended.session) : undefined;
    if (provider) return c.redirect(provider, 303);
    return form ? c.redirect(logoutTarget(c.req.query("next"), config.loginPath), 303) : c.body(null, 204);
  });

  app.get("/sessions", async (c) => {
    const { session } = requireSession(c);
    const list = await sessions.list(session.sub);
    return c.json({ sessions: list.map((entry) => listedView(entry, session.sid)) });
  });

  app.delete("/sessions/:sid", async (c) => {
    const { session } = requireSession(c);
    const target = await sessions.get(c.req.param("sid"));
    if (!target || target.sub !== session.sub) throw new GateError("not_found");
    await sessions.revoke(target, "self_service");
    if (target.sid === session.sid) c.set("sessionCookie", clearedCookie(config.cookie));
    return c.body(null, 204);
  });

  return app;
}
