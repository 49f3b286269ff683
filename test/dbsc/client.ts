/**
 * A DBSC client that plays the browser against the gate inside workerd
 * (WebCrypto and fetch only), following the W3C draft's algorithms: "Process
 * session registration", "Send request", "Create session", "Cache challenge"
 * and "Identify session needing refresh". See docs/dbsc.md.
 */
import { SignJWT, calculateJwkThumbprint, exportJWK, type JWK } from "jose";
import { CookieJar, isSecureUrl, type StoredCookie } from "./cookies";
import { parseList, serializeString, stringParam, type Member } from "./sf";
import { inScope, missingCredential, sameSite, type DbscSession, type SessionConfig } from "./session";
import { sendSessionRequest, type Exchange, type RefreshOutcome, type RegisterOutcome, type SessionRequestContext } from "./exchange";

export type { DbscSession, SessionConfig, Exchange, RefreshOutcome, RegisterOutcome, StoredCookie };

/** The two signature algorithms DBSC keys use. */
export type DbscAlgorithm = "ES256" | "RS256";

/** Options of {@link createDbscClient}. */
export interface DbscClientOptions {
  /** Sends a request to the gate: `path` is path+query when same-origin with `origin`, else an absolute URL. */
  fetch: (path: string, init: RequestInit) => Promise<Response>;
  /** The gate's origin, e.g. "https://gate.example". */
  origin: string;
  algorithm: DbscAlgorithm;
  /** The session cookie {@link DbscClient.exportCookie} exports; default "__Host-session". */
  cookieName?: string;
  /** Epoch milliseconds; cookie expiry uses it. Default `Date.now`. */
  now?: () => number;
  /**
   * "draft" (default): `Secure-Session-Response` and `Sec-Secure-Session-Id` are sf-strings (quoted),
   * and registration sends `Authorization` when the header had `authorization`. "chrome": as Chrome 156
   * sends them: bare JWT, bare id, no `Authorization` header; and credential attributes with
   * Max-Age/Expires fail registration, as in Chrome.
   */
  wire?: "draft" | "chrome";
  /** How many 403 challenges one refresh answers before giving up; default 1 (Chrome: 4). */
  maxChallengeRetries?: number;
  /** Register as soon as a response carrying `Secure-Session-Registration` is observed, as a browser does. */
  autoRegister?: boolean;
}

/** A registration offer read from `Secure-Session-Registration`. */
export interface PendingRegistration {
  endpoint: URL;
  algorithms: string[];
  challenge: string | null;
  authorization: string | null;
}

/** Options of {@link DbscClient.signProof}, for attacker cases. */
export interface ProofOptions {
  /** Sign with this key instead of the session key (a pair also supplies the `jwk`). */
  key?: CryptoKey | CryptoKeyPair;
  /** `jti` to claim instead of the challenge. */
  jti?: string;
  /**
   * Put a `jwk` header in: true = the public key of the `key` pair (or the client's own when `key` is
   * absent or a lone CryptoKey); a JWK = that one. Default false, the refresh shape.
   */
  jwk?: boolean | JWK;
  /** An `authorization` claim. */
  authorization?: string;
  /** Extra payload claims (e.g. `aud`, `iat`, which Chrome can be made to send). */
  claims?: Record<string, unknown>;
  /** Overrides `typ` (default "dbsc+jwt"). */
  typ?: string;
}

/** The client. */
export interface DbscClient {
  readonly algorithm: DbscAlgorithm;
  /** The session key pair (private key not extractable). */
  readonly keyPair: CryptoKeyPair;
  /** The public key as the registration `jwk` header carries it. */
  readonly publicJwk: JWK;
  readonly cookies: CookieJar;
  readonly pending: PendingRegistration[];
  readonly session: DbscSession | undefined;
  /** The last session instructions received (registration or refresh), even rejected ones. */
  readonly lastConfig: SessionConfig | undefined;
  /** Every registration and refresh request sent, with its response status. */
  readonly exchanges: Exchange[];
  /** Reads Set-Cookie, `Secure-Session-Registration` and `Secure-Session-Challenge` from a response served at `url`. */
  observe(response: Response, url?: string | URL): void;
  /** Registers using the first pending offer; POSTs the proof and stores the session. */
  register(): Promise<RegisterOutcome>;
  /** Sends a request with cookies, refreshing first when a bound cookie is missing or expired. */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** POSTs the refresh URL with `Sec-Secure-Session-Id` (and a proof if a challenge is cached), answering 403 challenges. */
  refresh(): Promise<RefreshOutcome>;
  /** Signs a DBSC proof over `challenge` (refresh shape unless options say otherwise). */
  signProof(challenge: string, options?: ProofOptions): Promise<string>;
  /** The session cookie as stored now (what malware would copy), or undefined. */
  exportCookie(): StoredCookie | undefined;
  /** The RFC 7638 thumbprint of the public key. */
  thumbprint(): Promise<string>;
}

const GEN: Record<DbscAlgorithm, SubtleCryptoGenerateKeyAlgorithm> = {
  ES256: { name: "ECDSA", namedCurve: "P-256" },
  RS256: { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
};

/** Creates a client with a fresh key pair (one client = one browser profile registering one session). */
export async function createDbscClient(options: DbscClientOptions): Promise<DbscClient> {
  const now = options.now ?? Date.now;
  const wire = options.wire ?? "draft";
  const origin = new URL(options.origin);
  const keyPair = (await crypto.subtle.generateKey(GEN[options.algorithm], false, ["sign", "verify"])) as CryptoKeyPair;
  const { kty, crv, x, y, n, e } = await exportJWK(keyPair.publicKey);
  const publicJwk: JWK = options.algorithm === "ES256" ? { kty, crv, x, y } : { kty, n, e };
  const cookies = new CookieJar(now);
  const pending: PendingRegistration[] = [];
  const exchanges: Exchange[] = [];
  const state: { session?: DbscSession; lastConfig?: SessionConfig } = {};

  const processChallenges = (res: Response, url: URL) => {
    let members: Member[];
    try {
      members = parseList(res.headers.get("Secure-Session-Challenge") ?? "");
    } catch {
      return;
    }
    for (const m of members) {
      const id = stringParam(m.params, "id");
      if (m.kind !== "item" || m.item.type !== "string" || id === undefined) continue;
      if (state.session?.id === id && sameSite(url, state.session.refreshUrl)) state.session.cachedChallenge = m.item.value;
    }
  };

  const observe = (res: Response, at?: string | URL) => {
    const url = new URL(at ?? (res.url || origin.href), origin);
    cookies.store(res.headers, url);
    let members: Member[];
    try {
      members = parseList(res.headers.get("Secure-Session-Registration") ?? "");
    } catch {
      members = [];
    }
    for (const m of members) {
      const [path, challenge, authorization] = ["path", "challenge", "authorization"].map((k) => stringParam(m.params, k));
      if (m.kind !== "inner" || path === undefined) continue;
      if ((m.params.has("challenge") && challenge === undefined) || (m.params.has("authorization") && authorization === undefined)) continue;
      const endpoint = new URL(path, url);
      if (!isSecureUrl(endpoint) || !sameSite(endpoint, url)) continue;
      const algorithms = m.items.flatMap((i) => (i.item.type === "token" ? [i.item.value] : []));
      pending.push({ endpoint, algorithms, challenge: challenge ?? null, authorization: authorization ?? null });
    }
    processChallenges(res, url);
  };

  const send = async (url: URL, init: RequestInit & { headers: Headers }) => {
    const cookie = cookies.header(url);
    if (cookie) init.headers.set("Cookie", cookie);
    const target = url.origin === origin.origin ? url.pathname + url.search : url.href;
    const res = await options.fetch(target, { ...init, redirect: "manual" }); // request() follows redirects itself
    observe(res, url);
    return res;
  };

  const signProof = async (challenge: string, o: ProofOptions = {}) => {
    const pair = o.key && "privateKey" in o.key ? o.key : undefined;
    const key = pair?.privateKey ?? (o.key as CryptoKey | undefined) ?? keyPair.privateKey;
    const alg = key.algorithm.name === "ECDSA" ? "ES256" : "RS256";
    let jwk: JWK | undefined = typeof o.jwk === "object" ? o.jwk : undefined;
    if (o.jwk === true) jwk = pair ? await exportJWK(pair.publicKey) : publicJwk;
    const payload = { ...(o.authorization !== undefined ? { authorization: o.authorization } : {}), ...o.claims };
    return new SignJWT(payload)
      .setProtectedHeader({ alg, typ: o.typ ?? "dbsc+jwt", ...(jwk ? { jwk } : {}) })
      .setJti(o.jti ?? challenge)
      .sign(key);
  };

  const ctx: SessionRequestContext = {
    origin,
    wire,
    cookies,
    exchanges,
    send,
    signProof,
    processChallenges,
    maxChallengeRetries: options.maxChallengeRetries ?? 1,
    get session() {
      return state.session;
    },
    set session(s: DbscSession | undefined) {
      state.session = s;
    },
    setConfig: (c) => {
      state.lastConfig = c;
    },
  };

  const client: DbscClient = {
    algorithm: options.algorithm,
    keyPair,
    publicJwk,
    cookies,
    pending,
    exchanges,
    get session() {
      return state.session;
    },
    get lastConfig() {
      return state.lastConfig;
    },
    observe,
    signProof,
    thumbprint: () => calculateJwkThumbprint(publicJwk),
    exportCookie: () => cookies.get(options.cookieName ?? "__Host-session")[0],
    async register() {
      const offer = pending.shift();
      if (!offer) throw new Error("no Secure-Session-Registration observed");
      // "Create session key pair": the client's one algorithm must be on offer, else "failure".
      if (!offer.algorithms.includes(options.algorithm)) return { kind: "failed", reason: "unsupported-algorithm" };
      return (await sendSessionRequest(ctx, { destination: offer.endpoint, sessionId: null, ...offer })) as RegisterOutcome;
    },
    async refresh() {
      const s = state.session;
      if (!s) return { kind: "no-session" };
      return (await sendSessionRequest(ctx, {
        destination: s.refreshUrl,
        sessionId: s.id,
        challenge: s.cachedChallenge,
        authorization: null,
      })) as RefreshOutcome;
    },
    async request(path, init = {}) {
      let url = new URL(path, origin);
      const deferred = new Set<string>();
      const skipped: string[] = [];
      for (let hops = 0; ; hops++) {
        const s = state.session;
        // "Identify session needing refresh", then restart the fetch (Fetch integration).
        if (s && !deferred.has(s.id) && inScope(url, s) && missingCredential(cookies, s, url)) {
          deferred.add(s.id);
          const outcome = await client.refresh();
          if (outcome.kind === "kept")
            skipped.push(`${outcome.reason === "network-error" ? "unreachable" : "server_error"};session_identifier=${serializeString(s.id)}`);
        }
        const headers = new Headers(init.headers);
        if (skipped.length) headers.set("Secure-Session-Skipped", skipped.join(", "));
        const res = await send(url, { ...init, headers });
        if (options.autoRegister && pending.length) await client.register();
        const location = res.headers.get("Location");
        if (init.redirect !== "follow" || !location || ![301, 302, 303, 307, 308].includes(res.status) || hops >= 19) return res;
        url = new URL(location, url);
        if (res.status === 303 || ((res.status === 301 || res.status === 302) && init.method === "POST"))
          init = { ...init, method: "GET", body: undefined };
      }
    },
  };
  return client;
}
