import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse";
import { createDurableStore } from "../../src/store/durable";
import { selectBackends } from "../../src/store/select";
import { type SessionRecord, StoreUnavailableError } from "../../src/store/types";
import { runStoreConformance } from "./conformance";
import { OBJECT } from "../../src/store/durable-layout";
import { HOUR, makeSession, sidsOf, successorOf } from "./fixtures";
import { runStoreOutageConformance } from "./outage";
import { byName, countingNamespace, inObject, objectError, objects, ownerOfSid, userObject, withInstance, wrappedNamespace } from "./durable-objects";

const FAR = 10 * 365 * 24 * HOUR;

// Real SQLite-backed objects in workerd, forwarding to each other as in production. Their
// own clock expires rows, which tests cannot move: the TTL section is not registered here;
// store/durable-ttl.test.ts checks expiry and the alarm with real, short TTLs instead.
runStoreConformance(
  "Durable Objects",
  async () => {
    const store = createDurableStore(objects);
    return {
      store,
      /** Plants `raw` where the backend keeps `key`: the pointer in a user object, a session, a revocation mark. */
      corrupt: async (key, raw) => {
        const [prefix, rest] = [key.slice(0, 4), key.slice(4)];
        if (prefix === "tok:") {
          const carrier = await makeSession({ tokenHash: rest });
          await store.create(carrier, HOUR);
          await inObject(await userObject(carrier.sub), (sql) => sql.exec("UPDATE tokens SET pointer = ? WHERE hash = ?", raw, rest));
          return;
        }
        const owner = await ownerOfSid(rest);
        if (prefix === "ses:") await inObject(owner, (sql) => sql.exec("UPDATE sessions SET record = ? WHERE sid = ?", raw, rest));
        else
          await inObject(owner, (sql) =>
            sql.exec("INSERT OR REPLACE INTO revoked (sid, mark, expires) VALUES (?, ?, ?)", rest, raw, Date.now() + FAR),
          );
      },
    };
  },
  { moveClock: false, corrupt: true },
);

describe("Durable Objects store outages", () => {
  /** A namespace whose every stub call fails with `error` (as a rejected RPC promise). */
  const failing = (error: Error) => wrappedNamespace(() => Promise.reject(error));

  runStoreOutageConformance("a namespace whose calls fail (network connection lost, retryable)", () =>
    createDurableStore(failing(objectError("Network connection lost.", { retryable: true }))),
  );
  runStoreOutageConformance("an overloaded object", () =>
    createDurableStore(failing(objectError("Durable Object is overloaded. Too many requests queued.", { overloaded: true, retryable: false }))),
  );
  runStoreOutageConformance("an object reset mid-call", () =>
    createDurableStore(failing(objectError("Durable Object reset because its code was updated."))),
  );
  runStoreOutageConformance("a namespace that throws when asked for a stub", () =>
    createDurableStore({
      idFromName: () => {
        throw new Error("Your account is generating too much load on Durable Objects. Please back off and try again later.");
      },
      idFromString: () => {
        throw new Error("bad id");
      },
      get: () => {
        throw new Error("no stub");
      },
    } as unknown as DurableObjectNamespace),
  );

  it("keeps the runtime's error as the cause and names the backend and the operation", async () => {
    const overloaded = objectError("Durable Object is overloaded. Too many requests queued.", { overloaded: true });
    const error = await createDurableStore(failing(overloaded))
      .lookup((await makeSession()).tokenHash)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error).toMatchObject({ backend: "durable", operation: "lookup", cause: overloaded });
    expect((error as Error).message).toBe("durable lookup: Error: Durable Object is overloaded. Too many requests queued.");
  });
});

describe("Durable Objects store retries", () => {
  /** The real namespace, whose first `failures` calls fail with `error`; counts every call. */
  function flaky(error: Error, failures = 1) {
    let calls = 0;
    const namespace = wrappedNamespace((_call, send) => (++calls <= failures ? Promise.reject(error) : send()));
    return { store: createDurableStore(namespace), calls: () => calls };
  }

  it("sends a call once more after a retryable failure (a dropped connection, a deploy), and succeeds", async () => {
    const { store, calls } = flaky(objectError("Network connection lost.", { retryable: true }));
    expect(await store.getMark("never-written")).toBeNull();
    expect(calls()).toBe(2);
  });

  it("gives up after the one retry", async () => {
    const { store, calls } = flaky(objectError("Network connection lost.", { retryable: true }), 5);
    await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(calls()).toBe(2);
  });

  it("never retries an overloaded object, even one also marked retryable", async () => {
    const { store, calls } = flaky(objectError("Durable Object is overloaded. Requests queued for too long.", { overloaded: true, retryable: true }));
    await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(calls()).toBe(1);
  });

  it("never retries a claim, whose retry would find its own claim and refuse it", async () => {
    const { store, calls } = flaky(objectError("Network connection lost.", { retryable: true }));
    await expect(store.claimMark("jti-retry", HOUR)).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(calls()).toBe(1);
  });
});

describe("Durable Objects calls per operation", () => {
  /** A store over the real objects whose every call from the Worker is recorded. */
  function counted() {
    const counting = countingNamespace();
    return { store: createDurableStore(counting.namespace), ...counting };
  }

  it("asks a token's directory shard once per isolate, then its user object directly", async () => {
    const session = await makeSession();
    await createDurableStore(objects).create(session, HOUR);
    const { store, started, reset } = counted();
    expect(await store.lookup(session.tokenHash)).toMatchObject({ session, revoked: false });
    expect(started()).toEqual(["dir.resolve"]);
    reset();
    expect(await store.lookup(session.tokenHash)).toMatchObject({ session, revoked: false });
    expect(started()).toEqual(["usr.lookup"]);
  });

  it("knows the owner of every token it created or rotated: their next look-up is one call to the user object", async () => {
    const { store, started, reset } = counted();
    const first = await makeSession();
    await store.create(first, HOUR);
    const next = await successorOf(first);
    expect(await store.rotate(next, HOUR)).toBe(true);
    expect(started()).toEqual(["usr.create", "usr.rotate"]);
    reset();
    expect(await store.lookup(next.tokenHash)).toMatchObject({ token: { gen: 1 }, session: next });
    expect(started()).toEqual(["usr.lookup"]);
  });

  it("does not remember an unknown token: one created later is found", async () => {
    const { store } = counted();
    const session = await makeSession();
    expect(await store.lookup(session.tokenHash)).toBeNull();
    await createDurableStore(objects).create(session, HOUR);
    expect(await store.lookup(session.tokenHash)).toMatchObject({ session });
  });

  it("still sees a rotation and a revocation made elsewhere after it knows the owner", async () => {
    const { store } = counted();
    const elsewhere = createDurableStore(objects);
    const session = await makeSession();
    await store.create(session, HOUR);
    await elsewhere.rotate(await successorOf(session), HOUR);
    expect((await store.lookup(session.tokenHash))?.session?.gen).toBe(1);
    await elsewhere.revoke(session.sid, session.sub, HOUR);
    expect(await store.lookup(session.tokenHash)).toMatchObject({ revoked: true, session: null });
  });

  it("sends the revocations of one user issued in one tick as one call, and each user's apart", async () => {
    const { store, started, reset } = counted();
    const first = await makeSession();
    const mine = [first, await makeSession({ sub: first.sub }), await makeSession({ sub: first.sub })];
    const theirs = await makeSession();
    for (const session of [...mine, theirs]) await store.create(session, HOUR);
    reset();
    await Promise.all([...mine, theirs].map((session) => store.revoke(session.sid, session.sub, HOUR)));
    expect(started()).toEqual(["usr.revoke", "usr.revoke"]);
    for (const session of [...mine, theirs]) expect(await store.lookup(session.tokenHash)).toMatchObject({ revoked: true });
    expect(await store.listUser(first.sub)).toEqual([]);
  });

  it("lists a user's sessions in one call", async () => {
    const { store, started, reset } = counted();
    const first = await makeSession();
    const sessions = [first, ...(await Promise.all([1, 2, 3, 4].map(() => makeSession({ sub: first.sub }))))];
    for (const session of sessions) await store.create(session, HOUR);
    reset();
    expect(sidsOf(await store.listUser(first.sub))).toEqual(sidsOf(sessions));
    expect(started()).toEqual(["usr.list"]);
  });

  it("writes no directory entry for a rotation it refuses, and answers true to a racer whose successor is already written", async () => {
    const store = createDurableStore(objects);
    const [revoked, raced] = [await makeSession(), await makeSession()];
    for (const session of [revoked, raced]) await store.create(session, HOUR);
    await store.revoke(revoked.sid, revoked.sub, HOUR);
    const refused = await successorOf(revoked);
    expect(await store.rotate(refused, HOUR)).toBe(false);
    expect(await byName(OBJECT.tokenShard(refused.tokenHash)).read(`tok:${refused.tokenHash}`)).toBeNull();
    const next = await successorOf(raced);
    expect(await Promise.all([store.rotate(next, HOUR), store.rotate(next, HOUR), createDurableStore(objects).rotate(next, HOUR)])).toEqual([
      true,
      true,
      true,
    ]);
    expect(await store.rotate(await successorOf(await successorOf(next)), HOUR)).toBe(false);
    expect(await store.rotate({ ...(await successorOf(raced)), tokenHash: (await makeSession()).tokenHash }, HOUR)).toBe(false);
  });
});

describe("a user object under concurrency", () => {
  /** The write the store sends for a session (store/durable.ts). */
  const writeOf = (session: SessionRecord) => ({
    record: JSON.stringify(session),
    sid: session.sid,
    gen: session.gen,
    tokenHash: session.tokenHash,
    pointer: JSON.stringify({ sid: session.sid, gen: session.gen }),
    ttl: HOUR,
  });

  it("refuses a rotation when a revocation lands while it writes the directory entry", async () => {
    const store = createDurableStore(objects);
    const first = await makeSession();
    await store.create(first, HOUR);
    const next = await successorOf(first);
    const user = await userObject(first.sub);
    // Inside the object: the rotation passes its first compare and awaits the directory; the
    // revocation runs in that gap. The rotation must compare again and give up.
    const rotated = await withInstance(user, async (instance) => {
      const rotation = instance.rotate(writeOf(next));
      instance.revoke([{ sid: first.sid, ttl: HOUR }]);
      return rotation;
    });
    expect(rotated).toBe(false);
    expect(await createDurableStore(objects).lookup(first.tokenHash)).toMatchObject({ revoked: true, session: null });
    expect(await inObject(user, (sql) => sql.exec("SELECT hash FROM tokens WHERE sid = ?", first.sid).toArray())).toEqual([
      { hash: first.tokenHash },
    ]);
  });

  it("writes a successor once when two rotations to it interleave, and answers true to both", async () => {
    const store = createDurableStore(objects);
    const first = await makeSession();
    await store.create(first, HOUR);
    const next = await successorOf(first);
    const results = await withInstance(await userObject(first.sub), (instance) =>
      Promise.all([instance.rotate(writeOf(next)), instance.rotate(writeOf(next))]),
    );
    expect(results).toEqual([true, true]);
    expect(await store.lookup(next.tokenHash)).toEqual({ token: { sid: first.sid, gen: 1 }, session: next, revoked: false });
  });

  it("lets only one of two different successors of the same generation win", async () => {
    const store = createDurableStore(objects);
    const first = await makeSession();
    await store.create(first, HOUR);
    const [a, b] = [await successorOf(first), await successorOf(first)];
    const results = await withInstance(await userObject(first.sub), (instance) =>
      Promise.all([instance.rotate(writeOf(a)), instance.rotate(writeOf(b))]),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await store.get(first.sid))?.tokenHash).toBe(results[0] ? a.tokenHash : b.tokenHash);
  });
});

describe('SESSION_STORE = "durable"', () => {
  const base = { ...env, SESSION_STORE: "durable", GATE: {} };

  it("selects the Durable Objects store and limiters over SESSION_OBJECTS, and accepts any limiter period", async () => {
    const parsed = parseConfig({ ...base, GATE: { rate_limits: { search: { limit: 5, period: "5m" } } } });
    expect(parsed.ok && parsed.config.store).toEqual({ kind: "durable", namespace: env.SESSION_OBJECTS });
    if (!parsed.ok) throw new Error(parsed.problems.join("\n"));
    const { store, limits } = await selectBackends(parsed.config);
    const session = await makeSession();
    await store.create(session, HOUR);
    expect(await createDurableStore(objects).lookup(session.tokenHash)).toMatchObject({ session });
    const limiter = parsed.config.rateLimits.get("search")!;
    expect(await limits.limit(limiter, `ip:${session.sid}`)).toMatchObject({ success: true, limit: 5, remaining: 4 });
  });

  it("refuses to start without the binding, saying which one and of what class", () => {
    const parsed = parseConfig({ ...base, SESSION_OBJECTS: undefined });
    expect(!parsed.ok && parsed.problems).toEqual([
      'SESSION_OBJECTS: expected a Durable Object namespace binding of class GatehouseSessions (SESSION_STORE is "durable")',
    ]);
    expect(parseConfig({ ...base, SESSION_OBJECTS: env.SESSIONS }).ok).toBe(false);
  });
});
