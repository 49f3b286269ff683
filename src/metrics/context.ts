import type { Context } from "hono";
import { routePath } from "hono/route";
import { GATE_PREFIX } from "../endpoints/paths";
import type { GateEnv } from "../http/context";

/**
 * The route of a request, as logs and metrics name it: the `GATE.routes`
 * pattern it fell under (`/admin/*`), or for the gate's own endpoints the
 * pattern Hono matched (`/_gate/admin/users/:sub/sessions`: a pattern, never
 * the user in it), `/_gate` before one matched. `""` before the route is known
 * (a request refused while its path was read).
 */
export function routeOf(c: Context<GateEnv>): string {
  if (c.get("gatePath")) {
    const matched = routePath(c);
    return matched.startsWith(`${GATE_PREFIX}/`) ? matched : GATE_PREFIX;
  }
  return c.get("route")?.path ?? "";
}

/** The request's session id, once its session is known to be valid. */
export function sidOf(c: Context<GateEnv>): string | undefined {
  const auth = c.get("auth");
  return auth?.status === "valid" ? auth.session.sid : undefined;
}

/** The Cloudflare data center that runs the request (`request.cf.colo`); `""` where there is none (locally). */
export function coloOf(c: Context<GateEnv>): string {
  const colo = (c.req.raw.cf as { colo?: unknown } | undefined)?.colo;
  return typeof colo === "string" ? colo : "";
}

/**
 * A request's log line with what the request knows that the line does not
 * say: its route and, once known, its session. What the line says wins (an
 * `auth.denied` names the route it denied).
 */
export function withRequest(fields: Record<string, unknown>, c: Context<GateEnv>): Record<string, unknown> {
  const route = fields.route === undefined ? routeOf(c) : "";
  const sid = fields.sid === undefined ? sidOf(c) : undefined;
  if (!route && !sid) return fields;
  return { ...fields, ...(route && { route }), ...(sid && { sid }) };
}
