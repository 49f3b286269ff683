import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { KEY } from "../../src/store/layout";
import { createKvStore } from "../../src/store/kv";
import { StoreUnavailableError } from "../../src/store/types";
import { runStoreConformance } from "./conformance";
import { HOUR, makeSession, sidsOf, successorOf } from "./fixtures";
import { runStoreOutageConformance } from "./outage";

/** The miniflare KV namespace bound as `SESSIONS` in wrangler.toml. */
const kv = env.SESSIONS;

// Real miniflare KV expires entries on its own clock, which tests cannot move: the
// TTL section is not registered here; KV's TTL rounding is checked below instead.
runStoreConformance(
  "KV",
  async () => ({
    store: createKvStore(kv),
    corrupt: (key, raw) => kv.put(key, raw, { expirationTtl: 3_600 }),
  }),
  { moveClock: false, corrupt: true },
);

interface Call {
  op: "get" | "put" | "delete" | "list";
  key: string;
  phase: "start" | "end";
  expirationTtl?: number;
}

/** Real KV behind a recorder of every call; `listLimit` forces small list pages. */
function recordingKv(options: { listLimit?: number } = {}) {
  const calls: Call[] = [];
  const around = async <T>(call: Omit<Call, "phase">, work: () => Promise<T>): Promise<T> => {
    calls.push({ ...call, phase: "start" });
    const result = await work();
    calls.push({ ...call, phase: "end" });
    return result;
  };
  const namespace = {
    get: (key: string) => around({ op: "get", key }, () => kv.get(key)),
    put: (key: string, value: string, put?: KVNamespacePutOptions) =>
      around({ op: "put", key, expirationTtl: put?.expirationTtl }, () => kv.put(key, value, put)),
    delete: (key: string) => around({ op: "delete", key }, () => kv.delete(key)),
    list: (list?: KVNamespaceListOptions) =>
      around({ op: "list", key: list?.prefix ?? "" }, () => kv.list({ ...list, limit: options.listLimit ?? list?.limit })),
  } as unknown as KVNamespace;
  /** Position of the first call matching `op`, `phase` and a key starting with `prefix`. */
  const indexOf = (op: Call["op"], phase: Call["phase"], prefix: string) =>
    calls.findIndex((c) => c.op === op && c.phase === phase && c.key.startsWith(prefix));
  return { namespace, calls, indexOf };
}

describe("KV backend", () => {
  it("never asks KV for a TTL under its 60 s minimum, even for a 1 ms write", async () => {
    const recorder = recordingKv();
    const store = createKvStore(recorder.namespace);
    const session = await makeSession();
    await store.create(session, 1);
    await store.rotate(await successorOf(session), 1);
    await store.update({ ...(await store.get(session.sid))!, lastSeenAt: session.lastSeenAt + 1 }, 0);
    await store.revoke(session.sid, session.sub, -5);
    const ttls = recorder.calls.filter((c) => c.op === "put" && c.phase === "end").map((c) => c.expirationTtl);
    expect(ttls).toHaveLength(7); // create 3, rotate 2, update 1, revoke 1
    expect(ttls).toEqual(ttls.map(() => 60));
  });

  it("rounds a TTL up to whole seconds, so an entry never ends before the session", async () => {
    const recorder = recordingKv();
    const store = createKvStore(recorder.namespace);
    await store.create(await makeSession(), 90_001);
    await store.create(await makeSession(), 7 * 24 * HOUR);
    const ttls = recorder.calls.filter((c) => c.op === "put" && c.phase === "end").map((c) => c.expirationTtl);
    expect(ttls).toEqual([91, 91, 91, 604_800, 604_800, 604_800]);
  });

  it("writes a new session's pointer before the session and its index entry", async () => {
    const recorder = recordingKv();
    const session = await makeSession();
    await createKvStore(recorder.namespace).create(session, HOUR);
    const pointerDone = recorder.indexOf("put", "end", KEY.token(session.tokenHash));
    expect(pointerDone).toBeGreaterThanOrEqual(0);
    expect(recorder.indexOf("put", "start", KEY.session(session.sid))).toBeGreaterThan(pointerDone);
    expect(recorder.indexOf("put", "start", await KEY.userPrefix(session.sub))).toBeGreaterThan(pointerDone);
  });

  it("writes a rotation's pointer before the session that names it", async () => {
    const recorder = recordingKv();
    const next = await successorOf(await makeSession());
    await createKvStore(recorder.namespace).rotate(next, HOUR);
    const pointerDone = recorder.indexOf("put", "end", KEY.token(next.tokenHash));
    expect(pointerDone).toBeGreaterThanOrEqual(0);
    expect(recorder.indexOf("put", "start", KEY.session(next.sid))).toBeGreaterThan(pointerDone);
  });

  it("writes the revocation mark before removing the session and its index entry", async () => {
    const recorder = recordingKv();
    const session = await makeSession();
    await createKvStore(recorder.namespace).revoke(session.sid, session.sub, HOUR);
    const markDone = recorder.indexOf("put", "end", KEY.revoked(session.sid));
    expect(markDone).toBeGreaterThanOrEqual(0);
    expect(recorder.indexOf("delete", "start", KEY.session(session.sid))).toBeGreaterThan(markDone);
    expect(recorder.indexOf("delete", "start", await KEY.userPrefix(session.sub))).toBeGreaterThan(markDone);
  });

  it("follows list cursors across pages of the user index", async () => {
    const recorder = recordingKv({ listLimit: 2 });
    const store = createKvStore(recorder.namespace);
    const first = await makeSession();
    const sessions = [first, ...(await Promise.all([1, 2, 3, 4].map(() => makeSession({ sub: first.sub }))))];
    for (const s of sessions) await store.create(s, HOUR);
    expect(sidsOf(await store.listUser(first.sub))).toEqual(sidsOf(sessions));
    expect(recorder.calls.filter((c) => c.op === "list" && c.phase === "end")).toHaveLength(3);
  });
});

describe("KV backend during an outage", () => {
  const reject = (op: string) => () => Promise.reject(new Error(`KV ${op} failed: 503 Service Unavailable`));
  const thrower = (op: string) => () => {
    throw new Error(`KV ${op} failed: network connection lost`);
  };
  const namespace = (make: (op: string) => () => unknown) =>
    ({ get: make("GET"), put: make("PUT"), delete: make("DELETE"), list: make("LIST"), getWithMetadata: make("GET") }) as unknown as KVNamespace;
  /** Real KV, but for the methods given. */
  const realKvExcept = (broken: Partial<Record<"get" | "put" | "delete" | "list", (key: string) => unknown>>) =>
    ({
      get: (key: string) => kv.get(key),
      put: (key: string, value: string, options?: KVNamespacePutOptions) => kv.put(key, value, options),
      delete: (key: string) => kv.delete(key),
      list: (options?: KVNamespaceListOptions) => kv.list(options),
      ...broken,
    }) as unknown as KVNamespace;

  runStoreOutageConformance("a KV whose every call rejects", () => createKvStore(namespace(reject)));
  runStoreOutageConformance("a KV whose every call throws synchronously", () => createKvStore(namespace(thrower)));
  runStoreOutageConformance(
    "a KV that reads but refuses writes (429, one write per second per key)",
    // Every `ses:` read finds a live session, so `update` (which re-reads first) goes on to write.
    () =>
      createKvStore(
        realKvExcept({
          get: async (key: string) => (key.startsWith("ses:") ? JSON.stringify(await makeSession()) : null),
          put: reject("PUT"),
          delete: reject("DELETE"),
        }),
      ),
    ["create", "rotate", "update", "revoke"],
  );
  runStoreOutageConformance("a KV whose list fails", () => createKvStore(realKvExcept({ list: reject("LIST") })), ["listUser"]);

  it("keeps KV's own error as the cause, for the log", async () => {
    const error = await createKvStore(namespace(reject))
      .ping()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toContain("503");
    expect((error as Error).cause).toBeInstanceOf(Error);
  });
});

describe("KV calls per look-up", () => {
  /** KV wrapped so that every call is counted. */
  function counted() {
    const calls: string[] = [];
    const namespace = new Proxy(env.SESSIONS, {
      get: (target, name: keyof KVNamespace) => {
        const value = target[name];
        return typeof value === "function"
          ? (...args: unknown[]) => (calls.push(String(name)), (value as (...a: unknown[]) => unknown).apply(target, args))
          : value;
      },
    });
    return { store: createKvStore(namespace), calls };
  }

  it("costs one call for a token the isolate has seen: the session and its revocation mark in one bulk get", async () => {
    const { store, calls } = counted();
    const session = await makeSession();
    await store.create(session, HOUR);
    calls.length = 0;
    expect(await store.lookup(session.tokenHash)).toMatchObject({ revoked: false });
    expect(calls).toEqual(["get", "get"]);
    calls.length = 0;
    expect(await store.lookup(session.tokenHash)).toMatchObject({ revoked: false });
    expect(calls).toEqual(["get"]);
  });

  it("still sees a revocation and a rotation made elsewhere after the pointer is remembered", async () => {
    const { store } = counted();
    const elsewhere = createKvStore(env.SESSIONS);
    const session = await makeSession();
    await store.create(session, HOUR);
    await store.lookup(session.tokenHash);
    const next = await successorOf(session);
    await elsewhere.rotate(next, HOUR);
    expect((await store.lookup(session.tokenHash))?.session?.gen).toBe(1);
    await elsewhere.revoke(session.sid, session.sub, HOUR);
    expect(await store.lookup(session.tokenHash)).toMatchObject({ revoked: true, session: null });
  });

  it("does not remember unknown tokens: one created later is found", async () => {
    const { store } = counted();
    const session = await makeSession();
    expect(await store.lookup(session.tokenHash)).toBeNull();
    await createKvStore(env.SESSIONS).create(session, HOUR);
    expect(await store.lookup(session.tokenHash)).not.toBeNull();
  });
});
