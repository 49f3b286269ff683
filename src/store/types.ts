/**
 * One session, as stored under `ses:<sid>` (docs/storage-schema.md). Times are
 * Unix milliseconds. The store keeps it; the session manager decides what it means.
 */
export interface SessionRecord {
  sid: string;
  sub: string;
  roles: string[];
  claims?: Record<string, unknown>;
  /** When the session was created, and when the user last proved who they are (`auth_time`). */
  createdAt: number;
  authTime: number;
  /** Last use, written at most once per touch interval (KV allows one write per second per key). */
  lastSeenAt: number;
  /** The absolute end of the session. */
  expiresAt: number;
  /** Idle timeout in ms; `null` for admin-issued bearer sessions, which only have `expiresAt`. */
  idleTimeout: number | null;
  /** Generation of the current token: 0 at login, +1 at each rotation. */
  gen: number;
  /** Hash of the current token. */
  tokenHash: string;
  /** When the current generation began. */
  rotatedAt: number;
  /** Whether the token rotates on schedule (cookie sessions) or not (bearer sessions). */
  rotates: boolean;
  /** Coarse client fingerprint for binding, e.g. `chrome/126|203.0.113`. */
  fingerprint: string;
  /** For the session list: truncated User-Agent and the client IP at login (empty for sessions the admin API issued). */
  userAgent: string;
  ip: string;
  /** Set for a session the admin API issued (a bearer session for an API client), absent for a login. */
  issuedBy?: "admin";
  /** The identity provider the session came from (`GATE.oidc.<name>`), absent for `X-Gate-Login` sessions. */
  idp?: string;
  /** The provider's own session id (its ID token's `sid`), for back-channel logout. */
  idpSid?: string;
  /** Device binding (DBSC): the key the browser proved it holds; absent for an unbound session. */
  device?: DeviceKey;
}

/** A device-bound session's key (W3C DBSC): its algorithm, public JWK and RFC 7638 thumbprint. */
export interface DeviceKey {
  alg: "ES256" | "RS256";
  jwk: JsonWebKey;
  jkt: string;
}

/** A token's pointer to its session, under `tok:<hash>`. Immutable once written. */
export interface TokenRecord {
  sid: string;
  gen: number;
}

/** What a token look-up finds. */
export interface Lookup {
  token: TokenRecord;
  /** `null` when the session record is gone (expired by TTL, or removed). */
  session: SessionRecord | null;
  /** True when the session was revoked; a revocation outlives every later write. */
  revoked: boolean;
}

/** How long a write should be kept, in ms; backends round up to what they support. */
export type Ttl = number;

/**
 * The storage interface every backend implements and the conformance suite
 * (test/store/conformance.ts) checks. Backends store; they decide nothing
 * about expiry, rotation or revocation policy.
 */
export interface SessionStore {
  /** Finds a token's pointer, its session and the session's revocation mark, or `null` for an unknown token. */
  lookup(tokenHash: string): Promise<Lookup | null>;
  /** Reads a session by id. */
  get(sid: string): Promise<SessionRecord | null>;
  /** Writes a new session, its first token and its entry in the user's index. */
  create(session: SessionRecord, ttl: Ttl): Promise<void>;
  /**
   * Writes the pointer of a new token generation, then the session that names
   * it. Resolves `false` when the backend can tell the write must not happen
   * (Redis: the session was revoked or moved on meanwhile); KV cannot tell and
   * always writes, which its revocation mark makes safe.
   */
  rotate(session: SessionRecord, ttl: Ttl): Promise<boolean>;
  /**
   * Rewrites a session in place (last use), only while the stored session has
   * the same generation: a touch never rolls back a rotation nor re-creates a
   * revoked (deleted) session. Atomic in Redis; a read-then-write in KV.
   */
  update(session: SessionRecord, ttl: Ttl): Promise<void>;
  /** Marks a session revoked for `ttl`, and removes it and its index entry. */
  revoke(sid: string, sub: string, ttl: Ttl): Promise<void>;
  /** The sessions in a user's index. May lag on eventually consistent backends. */
  listUser(sub: string): Promise<SessionRecord[]>;
  /**
   * Writes a mark: a small text under a key of the caller's (an identity
   * provider's session → its user, say), kept for `ttl`, replacing any earlier one.
   */
  putMark(key: string, value: string, ttl: Ttl): Promise<void>;
  /** Reads a mark, or `null` when there is none (never written, or expired). */
  getMark(key: string): Promise<string | null>;
  /**
   * A single-use marker: writes `key` only if it is absent and resolves `true`
   * when this call wrote it, `false` when it was already there (a logout
   * token's `jti` seen before). Atomic in Redis and Durable Objects; in KV a
   * read then a write, so two claims in the same instant in two locations can
   * both win (docs/storage-schema.md).
   */
  claimMark(key: string, ttl: Ttl): Promise<boolean>;
  /** Resolves when the store answers; rejects otherwise. */
  ping(): Promise<void>;
  /**
   * Reads the assertion signing keyset (src/assertion/): one opaque JSON text,
   * kept without TTL, or `null` when none was ever written.
   */
  readKeyset(): Promise<string | null>;
  /**
   * Replaces the assertion keyset. Last write wins on every backend (KV has no
   * compare-and-set); docs/assertion.md explains why racing writers are safe.
   */
  writeKeyset(value: string): Promise<void>;
}

/** What the assertion keys need of a store: the keyset record, nothing else. */
export type KeysetStore = Pick<SessionStore, "readKeyset" | "writeKeyset">;

/** The store operations, as `store.error` log lines name them. */
export type StoreOperation = Exclude<keyof SessionStore, never>;

/**
 * Thrown by a backend that cannot reach its store; the gate answers 503 and
 * clears no cookie. It names the operation and the backend, and carries the
 * client's error as `cause`; its message never holds the command's arguments
 * (keys, session records, client addresses), only why it failed.
 */
export class StoreUnavailableError extends Error {
  override readonly name = "StoreUnavailableError";
  constructor(
    readonly backend: string,
    readonly operation: StoreOperation,
    cause: unknown,
  ) {
    super(`${backend} ${operation}: ${reasonOf(cause)}`, { cause });
  }
}

/**
 * Why a client call failed, without what it sent: @upstash/redis appends
 * `, command was: [...]` (the whole command, with keys and values) to its
 * messages, so that part is cut.
 */
function reasonOf(cause: unknown): string {
  const text = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
  return text.split(", command was:")[0].slice(0, 200);
}

/** Thrown by `lookup` when a stored value is not a well-formed record; the token is refused and the event logged. */
export class CorruptRecordError extends Error {
  override readonly name = "CorruptRecordError";
}
