import type { Logger } from "../log";
import type { KeysetStore } from "../store/types";
import { type KeyPeriods, type Keyset, type StoredKey, ordered, parseKeyset, publishedKeys, rotationPlan, signingKey } from "./keyset";
import { type AssertionSecrets, deriveAssertionSecrets, importSigningKey, keyFromSeed, seal, thumbprintOf, unseal } from "./material";

/**
 * A keyset read less than this long ago is used as is: the hot path adds no
 * store round trip. Older, it is still used while a re-read runs after the
 * response (`background`).
 */
export const KEYSET_FRESH_FOR = 60_000;
/** Older than this (an isolate idle for a while), a request waits for a fresh read instead. */
export const KEYSET_USABLE_FOR = 300_000;
/** What `/_gate/jwks.json` lets caches keep it for (its `Cache-Control: max-age`). */
export const JWKS_MAX_AGE_SECONDS = 300;

/** A public key as `/_gate/jwks.json` lists it (RFC 7517, RFC 8037). */
export interface PublicJwk {
  kty: "OKP";
  crv: "Ed25519";
  x: string;
  kid: string;
  alg: "EdDSA";
  use: "sig";
}

/** The key that signs now, imported once per isolate. */
export interface Signer {
  kid: string;
  key: CryptoKey;
}

/** Options of {@link createAssertionKeys}. */
export interface AssertionKeysOptions {
  store: KeysetStore;
  /** GATE_SECRET: seals private keys and seeds the genesis key. */
  secret: string;
  periods: KeyPeriods;
  now: () => number;
  log: Logger;
}

/** Runs work after the response (ExecutionContext.waitUntil), or just lets it run. */
export type Background = (work: Promise<unknown>) => void;

/** A keyset as this isolate uses it: only keys it could open, with their imported signing keys. */
interface View {
  keyset: Keyset;
  readAt: number;
}

/**
 * The signing keys of `X-Gate-Assertion`, one per isolate: reads the keyset
 * from the store at most every {@link KEYSET_FRESH_FOR}, imports each private
 * key once (cached by kid), and rotates keys when the cron calls `rotate`.
 * A store that has no keyset yet gets the genesis key, derived from
 * GATE_SECRET, so racing isolates all create the same one (docs/assertion.md).
 */
export function createAssertionKeys(options: AssertionKeysOptions) {
  const { store, periods, now, log } = options;
  let secrets: Promise<AssertionSecrets> | undefined;
  const derived = () => (secrets ??= deriveAssertionSecrets(options.secret));
  const imported = new Map<string, Promise<CryptoKey>>();
  let view: View | undefined;
  let reading: Promise<View> | undefined;

  /** Builds a stored key (sealed) from key material. */
  async function storedKey(seed: Uint8Array | undefined, createdAt: number, activatesAt: number): Promise<StoredKey> {
    const material = await keyFromSeed(seed);
    const sealed = await seal((await derived()).wrap, material.kid, material.seed);
    imported.set(material.kid, importSigningKey(material.seed));
    return { kid: material.kid, x: material.x, createdAt, activatesAt, sealed };
  }

  const genesis = async (): Promise<Keyset> => ({ v: 1, keys: [await storedKey((await derived()).genesisSeed, 0, 0)] });

  /**
   * Keeps the keys this gate can open and sign with; a key sealed under another
   * GATE_SECRET, or altered, is dropped (and logged). Imports each kid once.
   */
  async function usable(keyset: Keyset): Promise<Keyset | undefined> {
    const { wrap } = await derived();
    const keys: StoredKey[] = [];
    for (const key of keyset.keys) {
      if (!imported.has(key.kid)) {
        const seed = key.kid === (await thumbprintOf(key.x)) ? await unseal(wrap, key.kid, key.sealed) : undefined;
        if (!seed) {
          log("store.corrupt", { record: "keyset", kid: key.kid, reason: "unsealable_key" });
          continue;
        }
        imported.set(key.kid, importSigningKey(seed));
      }
      keys.push(key);
    }
    return keys.length > 0 ? { v: 1, keys: ordered(keys) } : undefined;
  }

  /** The stored keyset, a fresh genesis keyset when there is none (and whether to write it), or genesis for a corrupt one. */
  async function readStored(): Promise<{ keyset: Keyset; absent: boolean }> {
    const text = await store.readKeyset();
    const parsed = text === null ? undefined : parseKeyset(text);
    if (text !== null && !parsed) log("store.corrupt", { record: "keyset", reason: "malformed" });
    const keyset = parsed && (await usable(parsed));
    return keyset ? { keyset, absent: false } : { keyset: await genesis(), absent: text === null };
  }

  function refresh(): Promise<View> {
    reading ??= (async () => {
      try {
        const { keyset, absent } = await readStored();
        // First use anywhere: write the genesis key. Racing writers write the same key.
        if (absent) await store.writeKeyset(JSON.stringify(keyset));
        view = { keyset, readAt: now() };
        return view;
      } finally {
        reading = undefined;
      }
    })();
    return reading;
  }

  /** The keyset to use now; a stale one is re-read after the response, a too-old one before it. */
  async function current(background?: Background): Promise<Keyset> {
    const age = view ? now() - view.readAt : Number.POSITIVE_INFINITY;
    if (view && age < KEYSET_FRESH_FOR) return view.keyset;
    if (view && age < KEYSET_USABLE_FOR && background) {
      background(refresh().catch((error: unknown) => log("store.error", { operation: "keyset_refresh", error: String(error) })));
      return view.keyset;
    }
    return (await refresh()).keyset;
  }

  return {
    /** The key that signs now, its CryptoKey imported once per isolate. Rejects when the store is unreachable and nothing is cached. */
    async signer(background?: Background): Promise<Signer> {
      const { kid } = signingKey(await current(background), now());
      const key = imported.get(kid);
      if (!key) throw new Error(`assertion key ${kid} was never imported`);
      return { kid, key: await key };
    },

    /** The public keys to publish now: next, active and retired keys. */
    async jwks(background?: Background): Promise<PublicJwk[]> {
      const keys = publishedKeys(await current(background), now(), periods.retain);
      return keys.map(({ kid, x }) => ({ kty: "OKP", crv: "Ed25519", x, kid, alg: "EdDSA", use: "sig" }));
    },

    /**
     * The cron's work: reads the keyset (not the cache), removes keys past
     * retention, adds a successor when one is due, writes the keyset when it
     * changed. Returns the kids it created and removed.
     */
    async rotate(): Promise<{ created?: string; removed: string[] }> {
      const time = now();
      const { keyset, absent } = await readStored();
      const plan = rotationPlan(keyset, time, periods);
      const removed = keyset.keys.filter((key) => !plan.keep.includes(key)).map((key) => key.kid);
      const created = plan.activateNewAt === undefined ? undefined : await storedKey(undefined, time, plan.activateNewAt);
      const next: Keyset = { v: 1, keys: ordered(created ? [...plan.keep, created] : plan.keep) };
      if (absent || created || removed.length > 0) await store.writeKeyset(JSON.stringify(next));
      for (const kid of removed) imported.delete(kid);
      view = { keyset: next, readAt: time };
      if (created || removed.length > 0) {
        log("assertion.rotated", { created: created?.kid, activates_at: plan.activateNewAt && new Date(plan.activateNewAt).toISOString(), removed });
      }
      return { created: created?.kid, removed };
    },
  };
}

/** The assertion keys of one gate. */
export type AssertionKeys = ReturnType<typeof createAssertionKeys>;
