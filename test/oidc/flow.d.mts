/** A stored cookie of the provider's site. */
export interface StoredCookie {
  name: string;
  value: string;
  path: string;
}

/** A cookie jar for one site, keyed by name and path (domain is ignored). */
export interface CookieJar {
  /** Stores (or deletes) what a response's Set-Cookie headers say; `requestUrl` gives the default path. */
  store(response: Response, requestUrl: string): void;
  /** The Cookie header for a request to `url`, or "" when no cookie applies. */
  header(url: string): string;
  /** Every stored cookie, e.g. to hand to POST /__test/logout. */
  list(): StoredCookie[];
  /** Adds cookies from an earlier jar's list(). */
  load(list: StoredCookie[]): void;
}

export interface FlowStep {
  method: string;
  url: string;
  status: number;
}

export interface LoginResult {
  /** The redirect back to the relying party: `redirect_uri?code=…&state=…&iss=…` (or `?error=…`). */
  callbackUrl: string;
  code?: string;
  state?: string;
  iss?: string;
  error?: string;
  /** The jar, now holding the provider's session cookie (`_session`). */
  cookies: CookieJar;
  steps: FlowStep[];
}

export interface CompleteLoginOptions {
  /** What to type into the login form (a user's sub, username or email); omit with autoLogin + login_hint. */
  login?: string;
  /** The fetch to use (default: globalThis.fetch). */
  fetch?: typeof fetch;
  /** A jar to start from, e.g. an earlier login's, to log in again without a prompt. */
  cookies?: CookieJar;
  maxSteps?: number;
}

export function createCookieJar(): CookieJar;

/** The first `<form>` of a page: its action, id and hidden inputs. */
export function parseForm(html: string): { action: string; id: string; fields: Record<string, string> } | undefined;

/** Follows the provider's redirects and login form from `authorizationUrl` until it redirects to the relying party. */
export function completeLogin(authorizationUrl: string | URL, options?: CompleteLoginOptions): Promise<LoginResult>;

/** RP-initiated logout: GET the end_session URL with the provider's cookies, then confirm with logout=yes. */
export function completeLogout(
  endSessionUrl: string | URL,
  options: { cookies: CookieJar; fetch?: typeof fetch; maxSteps?: number },
): Promise<{ location: string; steps: FlowStep[] }>;
