/** How a route may be reached. */
export type Access = "public" | "session" | "deny";

/** What a limiter counts by. */
export type LimiterKey = "ip" | "session" | "user";

/** Session binding policy (contract §2). */
export type BindingMode = "off" | "report" | "enforce";

/** One compiled entry of `GATE.routes`; times in milliseconds. */
export interface Route {
  /** The pattern as written, for logs. */
  path: string;
  pattern: URLPattern;
  /** Upper-case methods; `undefined` matches every method. */
  methods?: ReadonlySet<string>;
  access: Access;
  roles?: readonly string[];
  fresh?: number;
  rateLimit?: string;
  csrf: boolean;
  audience?: string;
  /** Only device-bound sessions pass (with `session.device_bound = "require"`). */
  deviceBound: boolean;
}

/** What a request must satisfy: a route without its matcher. */
export type RoutePolicy = Omit<Route, "pattern">;

/** One entry of `GATE.rate_limits`. */
export interface Limiter {
  name: string;
  limit: number;
  period: number;
  key: LimiterKey;
  /** When the limiter's backend fails: let the request through (`open`) or answer 429 (`closed`). */
  onFailure: "open" | "closed";
  /** `kv` mode: the Workers Rate Limiting binding `RATE_LIMIT_<NAME>` that counts for it. */
  binding?: RateLimit;
}

/** Where sessions live (`SESSION_STORE`), with what reaches it. */
export type StoreConfig =
  | { kind: "kv"; namespace: KVNamespace }
  | { kind: "redis"; url: string; token: string }
  | { kind: "durable"; namespace: DurableObjectNamespace };

/** A security header's setting: the value to send, and whether the origin's own value wins. */
export interface HeaderRule {
  value: string;
  originWins: boolean;
}

/** DBSC (W3C Device Bound Session Credentials) policy. */
export type DeviceBoundMode = "off" | "offer" | "require";

/** One `GATE.oidc.<name>` provider, with its client secret (`GATE_OIDC_<NAME>_CLIENT_SECRET`), if any. */
export interface OidcProvider {
  name: string;
  issuer: string;
  clientId: string;
  /** Absent: a public client (PKCE only). */
  clientSecret?: string;
  scopes: readonly string[];
  userClaim: string;
  /** Put before the `userClaim` value to make the session's `sub`. */
  subPrefix: string;
  rolesClaim?: string;
  allowedEmailDomains: readonly string[];
  allowedUsers: readonly string[];
}

/** The gate's whole configuration, validated once per isolate. Times in milliseconds. */
export interface Config {
  origin: { url?: URL; binding?: Fetcher };
  store: StoreConfig;
  secrets: {
    gate: string;
    origin: string;
    admin?: string;
  };
  loginPath: string;
  /** `GATE.public_origin`: the gate's own origin; requests for any other host are misdirected (421). */
  publicOrigin?: string;
  trustedOrigins: ReadonlySet<string>;
  /** `GATE.ipv6_limit_prefix`: IPv6 clients are counted by this prefix (a /64 is one home line). */
  ipv6LimitPrefix: number;
  issuer?: string;
  /** `GATE.error_page`: a path on the origin that renders error pages for navigations. */
  errorPage?: string;
  /** `GATE.login_provider`: unauthenticated navigations go to this provider's login. */
  loginProvider?: string;
  cookie: { name: string; sameSite: "Lax" | "Strict" };
  session: {
    idleTimeout: number;
    absoluteTimeout: number;
    rotateEvery: number;
    rotationGrace: number;
    binding: BindingMode;
    /** Sessions one user may hold; a login past it ends the least recently used. */
    maxPerUser: number;
    deviceBound: DeviceBoundMode;
    deviceCookieTtl: number;
  };
  websocket: { recheck: number; maxRechecks: number };
  /** `GATE.oidc`: the identity providers, by name. */
  oidc: ReadonlyMap<string, OidcProvider>;
  /** Signing keys of `X-Gate-Assertion` (src/assertion/): rotation period, publication lead, retention. */
  assertion: {
    rotateEvery: number;
    publishAhead: number;
    retain: number;
  };
  rateLimits: ReadonlyMap<string, Limiter>;
  routes: readonly Route[];
  /** Lower-case header name → rule; a header switched off is absent. */
  headers: ReadonlyMap<string, HeaderRule>;
}
