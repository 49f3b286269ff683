import { hkdf, masterKey, OIDC_TRANSACTION_INFO } from "../derive";
import { base64url, fromBase64url, utf8 } from "../util/encoding";

/**
 * A login in progress, between the redirect to the provider and its redirect
 * back: it lives only in a sealed cookie (an anonymous visitor costs no store write).
 */
export interface Transaction {
  /** The provider's name (`GATE.oidc.<name>`): a callback for another provider is refused. */
  provider: string;
  state: string;
  /** The PKCE code verifier. */
  verifier: string;
  nonce: string;
  /** Where the browser goes after the login: a local path. */
  next: string;
  /** When the login began, Unix ms. */
  createdAt: number;
  /** Set when a fresh login was asked for (`max_age` was sent): the ID token's `auth_time` must be that recent. */
  maxAge?: number;
}

/** `__Host-`: Secure, Path=/, no Domain; one cookie per transaction, named by its state. */
export const TRANSACTION_COOKIE_PREFIX = "__Host-gate-oidc-";
/** A transaction lasts at most 10 minutes (contract §10), in the cookie and when it is opened. */
export const TRANSACTION_TTL_MS = 10 * 60_000;
/** Logins one browser may have in progress at once (tabs); starting one more drops the oldest. */
export const MAX_TRANSACTIONS = 4;
const IV_BYTES = 12;

/** The cookie of the transaction whose `state` this is: 22 base64url characters (132 bits) of it name the cookie. */
export const transactionCookieName = (state: string) => TRANSACTION_COOKIE_PREFIX + state.slice(0, 22);

/**
 * The Set-Cookie of a transaction: host-only, Secure, HttpOnly, SameSite=Lax
 * (the provider's redirect back is a top-level cross-site navigation, which
 * Lax cookies accompany and Strict ones do not), gone after 10 minutes.
 */
export function transactionCookie(name: string, sealed: string): string {
  return `${name}=${sealed}; Path=/; Max-Age=${TRANSACTION_TTL_MS / 1_000}; Secure; HttpOnly; SameSite=Lax`;
}

/** The Set-Cookie that removes a transaction cookie. */
export const clearedTransactionCookie = (name: string) => `${name}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax`;

/** The transaction cookies a Cookie header carries, by name (a name sent twice keeps its first value; its callback is refused). */
export function transactionCookies(header: string | undefined): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const pair of (header ?? "").split(";")) {
    const eq = pair.indexOf("=");
    const name = pair.slice(0, eq).trim();
    if (eq < 0 || !name.startsWith(TRANSACTION_COOKIE_PREFIX)) continue;
    found.set(name, [...(found.get(name) ?? []), pair.slice(eq + 1).trim()]);
  }
  return found;
}

/** Field names of the sealed JSON, kept short: the cookie travels with every request for 10 minutes. */
type Sealed = { p: string; s: string; v: string; n: string; x: string; t: number; m?: number };

function fromSealed(value: unknown): Transaction | undefined {
  const sealed = value as Partial<Sealed> | null;
  if (typeof sealed !== "object" || sealed === null) return undefined;
  const { p, s, v, n, x, t, m } = sealed;
  if (![p, s, v, n, x].every((field) => typeof field === "string") || typeof t !== "number") return undefined;
  if (m !== undefined && typeof m !== "number") return undefined;
  return {
    provider: p as string,
    state: s as string,
    verifier: v as string,
    nonce: n as string,
    next: x as string,
    createdAt: t,
    ...(m !== undefined && { maxAge: m }),
  };
}

/**
 * Seals transactions with AES-256-GCM under a key derived from GATE_SECRET
 * (HKDF, its own `info`), the cookie's name as associated data so a sealed
 * value cannot be replayed under another name. The key is derived on first use.
 */
export function createTransactionSeal(secret: string) {
  let key: Promise<CryptoKey> | undefined;
  const keyOf = async () => {
    key ??= masterKey(secret).then((master) =>
      crypto.subtle.deriveKey(hkdf(OIDC_TRANSACTION_INFO), master, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]),
    );
    return key;
  };

  /** The cookie value of `transaction`: base64url(iv ‖ ciphertext ‖ tag). */
  async function seal(name: string, transaction: Transaction): Promise<string> {
    const { provider: p, state: s, verifier: v, nonce: n, next: x, createdAt: t, maxAge: m } = transaction;
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const plain = utf8(JSON.stringify({ p, s, v, n, x, t, m } satisfies Sealed));
    const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: utf8(name) }, await keyOf(), plain));
    const out = new Uint8Array(IV_BYTES + sealed.length);
    out.set(iv);
    out.set(sealed, IV_BYTES);
    return base64url(out);
  }

  /** The transaction sealed in `value` under `name`, or `undefined` when it was not sealed by this gate under that name. */
  async function open(name: string, value: string): Promise<Transaction | undefined> {
    try {
      const bytes = fromBase64url(value);
      const additionalData = utf8(name);
      const plain = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: bytes.slice(0, IV_BYTES), additionalData },
        await keyOf(),
        bytes.slice(IV_BYTES),
      );
      return fromSealed(JSON.parse(new TextDecoder().decode(plain)));
    } catch {
      return undefined;
    }
  }

  return { seal, open };
}

/** Sealing and opening transactions. */
export type TransactionSeal = ReturnType<typeof createTransactionSeal>;
