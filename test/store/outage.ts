import { describe, expect, it } from "vitest";
import { type SessionStore, StoreUnavailableError } from "../../src/store/types";
import { HOUR, makeSession, uniqueId } from "./fixtures";

type Method = keyof SessionStore;

/** One call of each store method, with plausible arguments. */
const CALLS: Record<Method, (store: SessionStore) => Promise<unknown>> = {
  lookup: async (store) => store.lookup((await makeSession()).tokenHash),
  get: async (store) => store.get(uniqueId("sid")),
  create: async (store) => store.create(await makeSession(), HOUR),
  rotate: async (store) => store.rotate(await makeSession({ gen: 1 }), HOUR),
  update: async (store) => store.update(await makeSession(), HOUR),
  revoke: async (store) => store.revoke(uniqueId("sid"), uniqueId("user"), HOUR),
  listUser: async (store) => store.listUser(uniqueId("user")),
  putMark: async (store) => store.putMark(uniqueId("mark"), "value", HOUR),
  getMark: async (store) => store.getMark(uniqueId("mark")),
  claimMark: async (store) => store.claimMark(uniqueId("mark"), HOUR),
  ping: async (store) => store.ping(),
  readKeyset: async (store) => store.readKeyset(),
  writeKeyset: async (store) => store.writeKeyset('{"v":1,"keys":[]}'),
};

/** Every store method, for suites that check all of them. */
export const STORE_METHODS = Object.keys(CALLS) as Method[];

/**
 * The outage half of the conformance suite: a store over a client that fails
 * must reject with {@link StoreUnavailableError} from the methods in `methods`
 * (all of them by default), never with the client's raw error. That is what
 * lets the gate answer 503 and keep the cookie instead of failing with 500.
 * `make` builds a store over a broken client (`label` says how it is broken).
 */
export function runStoreOutageConformance(label: string, make: () => SessionStore | Promise<SessionStore>, methods: Method[] = STORE_METHODS): void {
  describe(`over ${label}`, () => {
    it.for(methods)("%s rejects with StoreUnavailableError", async (method) => {
      const store = await make();
      const outcome = await CALLS[method](store).then(
        () => "resolved",
        (error: unknown) => error,
      );
      expect(outcome).toBeInstanceOf(StoreUnavailableError);
      expect((outcome as Error).message).not.toBe("");
    });
  });
}
