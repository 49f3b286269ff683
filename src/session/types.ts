import type { SessionRecord } from "../store/types";
import type { RefusalReason } from "./decide";

/** Where a token came from: cookies rotate and are CSRF-checked; bearer tokens do neither. */
export type Via = "cookie" | "bearer";

/** The connection facts the manager needs. */
export interface Client {
  ip: string;
  userAgent: string;
}

/** A token as the request presented it; `tokenHash` is computed by the caller (see `authenticate`). */
export interface Credential {
  token: string;
  tokenHash?: string;
  via: Via;
  /** A WebSocket handshake: no rotation, no new cookie (a 101 cannot deliver it). */
  upgrade?: boolean;
}

/** The outcome of checking a token. */
export type Authentication =
  | { status: "valid"; session: SessionRecord; via: Via; token: string; setToken?: string }
  | { status: "invalid"; reason: RefusalReason };

/** Who logged in, as the origin said in `X-Gate-Login` or an admin in the API. */
export interface Identity {
  sub: string;
  roles: string[];
  claims?: Record<string, unknown>;
  /** The identity provider that logged the user in (`GATE.oidc.<name>`); absent for `X-Gate-Login` and the admin API. */
  idp?: string;
  /** That provider's session id (its ID token's `sid`), for back-channel logout. */
  idpSid?: string;
  /** When the provider last authenticated the user (its ID token's `auth_time`, in ms); absent: at this login. */
  authTime?: number;
}

/** Runs work after the response (ExecutionContext.waitUntil). */
export type Background = (work: Promise<unknown>) => void;
