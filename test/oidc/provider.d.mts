import type { StoredCookie } from "./flow.mjs";

export type FaultTarget = "discovery" | "jwks" | "authorization" | "token" | "userinfo" | "end_session" | "all";
export type FaultMode = "normal" | "http500" | "hang" | "garbage";
/** provider: in the JWKS; unknown: never published; next: published after publishNextKey(true); secret: HS256 with the client secret; none: alg "none". */
export type MintKey = "provider" | "unknown" | "next" | "secret" | "none";
export const FAULT_TARGETS: readonly FaultTarget[];
export const FAULT_MODES: readonly FaultMode[];
export const MINT_KEYS: readonly MintKey[];
/** "http://schemas.openid.net/event/backchannel-logout", the logout token's event. */
export const BACKCHANNEL_LOGOUT_EVENT: string;

/** A user findAccount knows; every field but `username` is a claim (email/profile/groups scopes). */
export interface TestUser {
  sub: string;
  /** Also accepted in the login form and as login_hint (besides sub and email). */
  username?: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  groups?: string[];
  [claim: string]: unknown;
}
export const DEFAULT_USERS: readonly TestUser[];

export interface StartProviderOptions {
  /** 127.0.0.1 port; 0 (default) = a free one. */
  port?: number;
  /** Both clients' redirect_uris (default ["https://gate.example/_gate/oidc/corp/callback"]). */
  redirectUris?: string[];
  /** Both clients' post_logout_redirect_uris (default ["https://gate.example/"]). */
  postLogoutRedirectUris?: string[];
  /** Both clients' backchannel_logout_uri; null for none. Nothing is sent there: logouts are recorded. */
  backchannelLogoutUri?: string | null;
  /** Default true: ID tokens and logout tokens carry sid. */
  backchannelLogoutSessionRequired?: boolean;
  /** Default "gate-confidential" (client_secret_basic). */
  clientId?: string;
  /** Random when omitted. */
  clientSecret?: string;
  /** Default "gate-public" (token_endpoint_auth_method none, PKCE required). */
  publicClientId?: string;
  /** More clients, as raw oidc-provider client metadata (snake_case). */
  extraClients?: Record<string, unknown>[];
  /** Default DEFAULT_USERS (alice, bob). */
  users?: TestUser[];
  /** A login_hint naming a known user completes the login prompt without the form. Default false. */
  autoLogin?: boolean;
  /** Default false: claims of the granted scopes go into the ID token, not only to userinfo. */
  conformIdTokenClaims?: boolean;
  /** ID token lifetime in seconds (default 300). */
  idTokenTtl?: number;
  /** A request held by a "hang" fault is answered 504 after this long (default 10 s). */
  hangTimeoutMs?: number;
}

/** What POST /__test/mint and mint() take. */
export interface MintSpec {
  /** Default "id_token". "jwt" has only iss, aud, iat, exp by default. */
  type?: "id_token" | "logout_token" | "jwt";
  /** Overrides the defaults; a null value removes a claim. */
  claims?: Record<string, unknown>;
  /** Claims set to now + N seconds, e.g. { exp: -60 } (expired), { iat: 3600 }. */
  relative?: Record<string, number>;
  /** Overrides { alg, kid, typ } as written (the signature follows `key`, not `alg`); null removes. */
  header?: Record<string, unknown>;
  /** Default "provider". */
  key?: MintKey;
  /** The audience client (default: the confidential client). */
  clientId?: string;
}

export interface MintedToken {
  token: string;
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

/** What POST /__test/token-tamper and tamperNextToken() take: the next token response's id_token is re-signed with these changes to its real claims. */
export interface TokenTamper extends Omit<MintSpec, "type"> {
  /** Only a token response to this client (default: any). */
  clientId?: string;
  /** Use this id_token verbatim instead. */
  token?: string;
}

/** A back-channel logout the provider sent (recorded, never delivered). */
export interface RecordedLogout {
  uri: string;
  logoutToken: string;
  claims: Record<string, unknown>;
  clientId: string;
  sub?: string;
  sid?: string;
  at: number;
}

export interface ServerLoginResult {
  callbackUrl: string;
  code?: string;
  state?: string;
  iss?: string;
  error?: string;
  /** The provider's cookies after the login, for logout(). */
  cookies: StoredCookie[];
}

export interface TestProvider {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  issuer: string;
  /** Same as issuer; control endpoints live under `${url}/__test/`. */
  url: string;
  port: number;
  clients: { confidential: { clientId: string; clientSecret: string }; public: { clientId: string } };
  keyIds: { provider: string; unknown: string; next: string };
  /** The oidc-provider instance (a Koa app), for anything not covered here. */
  provider: unknown;
  users(): TestUser[];
  /** Adds (or with replace: true, replaces) the users findAccount knows. */
  setUsers(users: TestUser[], options?: { replace?: boolean }): void;
  setAutoLogin(enabled: boolean): void;
  setFault(target: FaultTarget, mode: FaultMode): void;
  publishNextKey(publish: boolean): void;
  mint(spec?: MintSpec): Promise<MintedToken>;
  /** Mints a real logout token (oidc-provider's own code) for sub and sid, as if sent to the client's backchannel_logout_uri. */
  backchannelLogout(options: { sub: string; sid?: string; clientId?: string }): Promise<RecordedLogout | undefined>;
  /** Recorded logouts matching every given field. */
  backchannelLogouts(filter?: { clientId?: string; sub?: string; sid?: string }): RecordedLogout[];
  /** Queues a tamper; returns how many are queued. */
  tamperNextToken(spec: TokenTamper): number;
  /** Merges discovery overrides (null removes a field); returns them. */
  setDiscovery(overrides: Record<string, unknown>, options?: { replace?: boolean }): Record<string, unknown>;
  /** completeLogin() run from Node against this provider. */
  login(authorizationUrl: string | URL, options?: { login?: string }): Promise<ServerLoginResult>;
  /** completeLogout() run from Node; resolves with where it ended and the logouts it sent. */
  logout(endSessionUrl: string | URL, options?: { cookies?: StoredCookie[] }): Promise<{ location: string; logouts: RecordedLogout[] }>;
  /** Clears faults, tampers, discovery overrides, the next key, recorded logouts; auto-login back to its start value. Users stay. */
  reset(): void;
  close(): Promise<void>;
}

export function startProvider(options?: StartProviderOptions): Promise<TestProvider>;
