import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { OBJECT } from "../../src/store/durable-layout";
import { createDurableStore } from "../../src/store/durable";
import { SWEEP_GAP } from "../../src/store/durable-tables";
import { HOUR, makeSession, successorOf, uniqueId } from "./fixtures";
import { byName, inObject, objects, rowsIn, tablesOf, userObject } from "./durable-objects";

/** Waits `ms` of real time: the objects expire rows on their own clock. */
const pass = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const alarmOf = (stub: DurableObjectStub) => inObject(stub as never, (_sql, state) => state.storage.getAlarm());

// The conformance suite's TTL section needs a clock it can move; these use real, short TTLs
// (a few hundred ms) instead, with margins wide enough not to race the objects' clock.
describe("Durable Objects expiry", () => {
  it("hides a session, its token and its directory entries once their TTL has passed", async () => {
    const store = createDurableStore(objects);
    const session = await makeSession();
    await store.create(session, 200);
    expect(await store.lookup(session.tokenHash)).not.toBeNull();
    await pass(300);
    expect(await store.lookup(session.tokenHash)).toBeNull();
    expect(await createDurableStore(objects).lookup(session.tokenHash)).toBeNull();
    expect(await store.get(session.sid)).toBeNull();
    expect(await store.listUser(session.sub)).toEqual([]);
  });

  it("gives a rotation's token and session the rotation's TTL, leaving the old token its own", async () => {
    const store = createDurableStore(objects);
    const first = await makeSession();
    await store.create(first, HOUR);
    const next = await successorOf(first);
    await store.rotate(next, 200);
    await pass(300);
    expect(await store.lookup(next.tokenHash)).toBeNull();
    expect(await store.lookup(first.tokenHash)).toEqual({ token: { sid: first.sid, gen: 0 }, session: null, revoked: false });
  });

  it("forgets a mark and a claimed marker after their TTL, so the marker can be claimed again", async () => {
    const store = createDurableStore(objects);
    const [mark, marker] = [uniqueId("mark"), uniqueId("jti")];
    await store.putMark(mark, "alice", 200);
    expect(await store.claimMark(marker, 200)).toBe(true);
    expect(await store.claimMark(marker, 200)).toBe(false);
    await pass(300);
    expect(await store.getMark(mark)).toBeNull();
    expect(await store.claimMark(marker, 200)).toBe(true);
  });

  it("keeps a revocation mark for its TTL, which a later, shorter revocation never shortens", async () => {
    const store = createDurableStore(objects);
    const session = await makeSession();
    await store.create(session, HOUR);
    await store.revoke(session.sid, session.sub, 1_000);
    await store.revoke(session.sid, session.sub, 1);
    await pass(100);
    expect(await store.lookup(session.tokenHash)).toMatchObject({ revoked: true, session: null });
    await pass(1_000);
    expect(await store.lookup(session.tokenHash)).toEqual({ token: { sid: session.sid, gen: 0 }, session: null, revoked: false });
  });
});

describe("Durable Objects sweeps (alarms)", () => {
  it("schedules a sweep at the first write, no earlier than the sweep gap, and moves it only earlier", async () => {
    const store = createDurableStore(objects);
    const session = await makeSession();
    const before = Date.now();
    await store.create(session, 12 * HOUR);
    const user = await userObject(session.sub);
    const first = await alarmOf(user);
    expect(first).toBeGreaterThanOrEqual(before + 12 * HOUR);
    await store.create(await makeSession({ sub: session.sub }), 24 * HOUR);
    expect(await alarmOf(user)).toBe(first);
    await store.create(await makeSession({ sub: session.sub }), 1);
    const earliest = (await alarmOf(user)) ?? 0;
    expect(earliest).toBeLessThan(first ?? 0);
    expect(earliest).toBeGreaterThanOrEqual(before + SWEEP_GAP);
  });

  it("deletes what expired, keeps the rest, and sets the next sweep", async () => {
    const store = createDurableStore(objects);
    const [short, long] = [await makeSession(), await makeSession()];
    const kept = { ...long, sub: short.sub };
    await store.create(short, 100);
    await store.create(kept, 2 * HOUR);
    await pass(200);
    const user = await userObject(short.sub);
    expect(await runDurableObjectAlarm(user)).toBe(true);
    expect(await rowsIn(user, "SELECT sid FROM sessions")).toEqual([{ sid: kept.sid }]);
    expect(await rowsIn(user, "SELECT hash FROM tokens")).toEqual([{ hash: kept.tokenHash }]);
    expect(await alarmOf(user)).toBeGreaterThanOrEqual(Date.now() + HOUR);
    expect(await store.listUser(short.sub)).toEqual([kept]);
  });

  it("frees an object the sweep leaves empty, and the object works again afterwards", async () => {
    const store = createDurableStore(objects);
    const session = await makeSession();
    await store.create(session, 100);
    await store.revoke(session.sid, session.sub, 100);
    await pass(200);
    const user = await userObject(session.sub);
    expect(await tablesOf(user)).toEqual(["revoked", "sessions", "tokens"]);
    expect(await runDurableObjectAlarm(user)).toBe(true);
    expect(await tablesOf(user)).toEqual([]);
    const again = await makeSession({ sub: session.sub });
    await store.create(again, HOUR);
    expect(await store.lookup(again.tokenHash)).toMatchObject({ session: again, revoked: false });
  });

  it("frees a limiter object two windows after its last request", async () => {
    const limiter = byName(OBJECT.limiter("sweep", `ip:${uniqueId("addr")}`));
    expect(await limiter.hit(5, 10, Date.now())).toMatchObject({ success: true, remaining: 4 });
    expect(await runDurableObjectAlarm(limiter)).toBe(true);
    expect(await tablesOf(limiter)).toEqual(["hits"]);
    await pass(1_100);
    expect(await runDurableObjectAlarm(limiter)).toBe(true);
    expect(await tablesOf(limiter)).toEqual([]);
  });

  it("keeps the assertion keyset, which has no TTL, through every sweep", async () => {
    const keyset = byName(`${OBJECT.keyset}:${uniqueId("sweep")}`);
    await keyset.put("kst:assertion", "keys", null);
    await keyset.put("mrk:short", "x", 1);
    await pass(50);
    expect(await runDurableObjectAlarm(keyset)).toBe(true);
    expect(await keyset.read("kst:assertion")).toBe("keys");
    expect(await rowsIn(keyset, "SELECT key FROM entries")).toEqual([{ key: "kst:assertion" }]);
  });

  it("creates no table for a read: listing or reading a user nobody created leaves nothing behind", async () => {
    const store = createDurableStore(objects);
    const nobody = uniqueId("nobody");
    expect(await store.listUser(nobody)).toEqual([]);
    expect(await (await userObject(nobody)).lookup("x")).toBeNull();
    expect(await tablesOf(await userObject(nobody))).toEqual([]);
  });
});
