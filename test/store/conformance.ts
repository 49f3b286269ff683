import { beforeEach, describe, expect, it } from "vitest";
import { KEY } from "../../src/store/layout";
import { CorruptRecordError, type SessionStore } from "../../src/store/types";
import { CORRUPT_POINTERS, CORRUPT_SESSIONS, HOUR, MINUTE, freshTokenHash, makeSession, sidsOf, successorOf, uniqueId } from "./fixtures";

/** What a backend's test file hands the suite. */
export interface StoreUnderTest {
  store: SessionStore;
  /** Moves the clock that expires entries; given only by backends whose clock the test owns (memory). */
  advance?: (ms: number) => void;
  /** Writes `raw` under `key` as is, bypassing the store; given by backends that can plant a bad value. */
  corrupt?: (key: string, raw: string) => Promise<void>;
}

/**
 * The behaviours every {@link SessionStore} backend must have, in the manner of
 * oauth2-proxy's `RunSessionStoreTests`: each backend's test file calls this
 * with a factory, and the session manager may rely on nothing else. The store
 * may be shared between tests, so every test uses its own random sids and subs.
 * Sections that need a movable clock or planted values are registered only for
 * backends that declare them in `can` (nothing is skipped at run time).
 */
export function runStoreConformance(name: string, make: () => Promise<StoreUnderTest>, can: { moveClock: boolean; corrupt: boolean }): void {
  describe(`${name} store conformance`, () => {
    let subject: StoreUnderTest;
    let store: SessionStore;
    beforeEach(async () => {
      subject = await make();
      store = subject.store;
    });

    describe("create, lookup, get", () => {
      it("finds nothing for an unknown token hash", async () => {
        expect(await store.lookup(await freshTokenHash())).toBeNull();
      });

      it("finds a created session by its token hash: pointer, session, not revoked", async () => {
        const session = await makeSession();
        await store.create(session, HOUR);
        expect(await store.lookup(session.tokenHash)).toEqual({ token: { sid: session.sid, gen: 0 }, session, revoked: false });
      });

      it("reads a created session by sid, every field intact", async () => {
        const bearer = await makeSession({ idleTimeout: null, rotates: false, fingerprint: "", claims: undefined, roles: [] });
        await store.create(bearer, HOUR);
        expect(await store.get(bearer.sid)).toEqual(bearer);
      });

      it("keeps a session's optional fields intact: provider, provider session, device key, issuer", async () => {
        const jwk = { kty: "EC", crv: "P-256", x: "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", y: "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0" };
        const bound = await makeSession({ idp: "corp", idpSid: "op-session-1", device: { alg: "ES256", jwk, jkt: "thumbprint" } });
        const issued = await makeSession({ issuedBy: "admin", idleTimeout: null, rotates: false, fingerprint: "", userAgent: "", ip: "" });
        for (const session of [bound, issued]) {
          await store.create(session, HOUR);
          expect(await store.get(session.sid)).toEqual(session);
          expect((await store.lookup(session.tokenHash))?.session).toEqual(session);
        }
      });

      it("reads nothing for an unknown sid, however odd the id", async () => {
        for (const sid of [uniqueId("missing"), `${uniqueId("odd")}:ü/日本🙂`, "x".repeat(600), "é".repeat(300)]) {
          expect(await store.get(sid)).toBeNull();
        }
      });

      it("keeps sessions independent of each other", async () => {
        const [a, b] = [await makeSession(), await makeSession()];
        await store.create(a, HOUR);
        await store.create(b, HOUR);
        await store.update({ ...a, lastSeenAt: a.lastSeenAt + MINUTE, roles: ["changed"] }, HOUR);
        await store.revoke(a.sid, a.sub, HOUR);
        expect(await store.lookup(b.tokenHash)).toEqual({ token: { sid: b.sid, gen: 0 }, session: b, revoked: false });
        expect(await store.get(b.sid)).toEqual(b);
      });

      it("answers a ping", async () => {
        await expect(store.ping()).resolves.toBeUndefined();
      });
    });

    describe("rotate and update", () => {
      it("resolves the new token to the new generation and keeps the old one pointing at the same sid", async () => {
        const first = await makeSession();
        await store.create(first, HOUR);
        const next = await successorOf(first);
        await expect(store.rotate(next, HOUR)).resolves.toBe(true);
        expect(await store.lookup(next.tokenHash)).toEqual({ token: { sid: first.sid, gen: 1 }, session: next, revoked: false });
        expect(await store.lookup(first.tokenHash)).toEqual({ token: { sid: first.sid, gen: 0 }, session: next, revoked: false });
        expect(await store.get(first.sid)).toEqual(next);
      });

      it("keeps every generation's pointer across several rotations", async () => {
        const sessions = [await makeSession()];
        await store.create(sessions[0], HOUR);
        for (let i = 1; i <= 3; i++) {
          sessions.push(await successorOf(sessions[i - 1]));
          await store.rotate(sessions[i], HOUR);
        }
        for (const [gen, session] of sessions.entries()) {
          expect(await store.lookup(session.tokenHash)).toMatchObject({ token: { sid: session.sid, gen }, session: sessions[3] });
        }
      });

      it("converges when racing requests write the same successor twice", async () => {
        const first = await makeSession();
        await store.create(first, HOUR);
        const next = await successorOf(first);
        await Promise.all([store.rotate(next, HOUR), store.rotate(next, HOUR)]);
        expect(await store.lookup(next.tokenHash)).toEqual({ token: { sid: first.sid, gen: 1 }, session: next, revoked: false });
      });

      it("keeps a rotated session in its user's index", async () => {
        const first = await makeSession();
        await store.create(first, HOUR);
        const next = await successorOf(first);
        await store.rotate(next, HOUR);
        expect(await store.listUser(first.sub)).toEqual([next]);
      });

      it("rewrites the session on update and leaves its pointer alone", async () => {
        const session = await makeSession();
        await store.create(session, HOUR);
        const touched = { ...session, lastSeenAt: session.lastSeenAt + 5 * MINUTE };
        await store.update(touched, HOUR);
        expect(await store.get(session.sid)).toEqual(touched);
        expect(await store.lookup(session.tokenHash)).toEqual({ token: { sid: session.sid, gen: 0 }, session: touched, revoked: false });
        expect(await store.listUser(session.sub)).toEqual([touched]);
      });

      it("never lets a late touch roll back a rotation", async () => {
        const first = await makeSession();
        await store.create(first, HOUR);
        const next = await successorOf(first);
        await store.rotate(next, HOUR);
        await store.update({ ...first, lastSeenAt: next.lastSeenAt + 1 }, HOUR);
        expect(await store.get(first.sid)).toEqual(next);
        expect(await store.lookup(next.tokenHash)).toEqual({ token: { sid: first.sid, gen: 1 }, session: next, revoked: false });
      });
    });

    describe("revoke", () => {
      it("reports every token of the sid revoked, old and new generations", async () => {
        const first = await makeSession();
        await store.create(first, HOUR);
        const next = await successorOf(first);
        await store.rotate(next, HOUR);
        await store.revoke(first.sid, first.sub, HOUR);
        for (const token of [first, next]) {
          expect(await store.lookup(token.tokenHash)).toMatchObject({ token: { sid: first.sid, gen: token.gen }, revoked: true });
        }
      });

      it("removes the session from get and from the user's index", async () => {
        const [gone, kept] = [await makeSession(), await makeSession()];
        const sibling = await makeSession({ sub: gone.sub });
        for (const s of [gone, kept, sibling]) await store.create(s, HOUR);
        await store.revoke(gone.sid, gone.sub, HOUR);
        expect(await store.get(gone.sid)).toBeNull();
        expect(await store.lookup(gone.tokenHash)).toMatchObject({ session: null, revoked: true });
        expect(await store.listUser(gone.sub)).toEqual([sibling]);
        expect(await store.lookup(sibling.tokenHash)).toMatchObject({ revoked: false });
      });

      it("is not undone by a touch that raced it", async () => {
        const session = await makeSession();
        await store.create(session, HOUR);
        await store.revoke(session.sid, session.sub, HOUR);
        await store.update({ ...session, lastSeenAt: session.lastSeenAt + MINUTE }, HOUR);
        expect(await store.lookup(session.tokenHash)).toEqual({ token: { sid: session.sid, gen: 0 }, session: null, revoked: true });
        expect(await store.get(session.sid)).toBeNull();
        expect(await store.listUser(session.sub)).toEqual([]);
      });

      it("is not undone by a rotation that raced it: the successor is refused or born revoked", async () => {
        const first = await makeSession();
        await store.create(first, HOUR);
        await store.revoke(first.sid, first.sub, HOUR);
        const next = await successorOf(first);
        // KV cannot see the revocation and writes anyway (true); Redis refuses atomically (false).
        await store.rotate(next, HOUR);
        const successor = await store.lookup(next.tokenHash);
        if (successor !== null) expect(successor).toMatchObject({ token: { sid: first.sid, gen: 1 }, revoked: true });
        expect(await store.lookup(first.tokenHash)).toMatchObject({ revoked: true });
        expect(await store.listUser(first.sub)).toEqual([]);
      });

      it("can be repeated, and accepts a sid it never stored", async () => {
        const session = await makeSession();
        await store.create(session, HOUR);
        await store.revoke(session.sid, session.sub, HOUR);
        await expect(store.revoke(session.sid, session.sub, HOUR)).resolves.toBeUndefined();
        await expect(store.revoke(uniqueId("never"), uniqueId("nobody"), HOUR)).resolves.toBeUndefined();
        expect(await store.lookup(session.tokenHash)).toMatchObject({ revoked: true });
      });
    });

    describe("the user index", () => {
      it("lists a user's sessions and nobody else's", async () => {
        const alice = uniqueId("alice");
        const mine = [await makeSession({ sub: alice }), await makeSession({ sub: alice })];
        const theirs = await makeSession();
        for (const s of [...mine, theirs]) await store.create(s, HOUR);
        expect(sidsOf(await store.listUser(alice))).toEqual(sidsOf(mine));
        expect(await store.listUser(theirs.sub)).toEqual([theirs]);
        expect(await store.listUser(uniqueId("nobody"))).toEqual([]);
      });

      it("keeps apart subs that are prefixes of each other or contain ':' and unicode", async () => {
        const base = uniqueId("a");
        const subs = [base, `${base}:b`, `${base}:`, `${base}:b:c`, `${base}b`, `${base}:ü/日本語🙂`, `usr:${base}`, "x".repeat(250) + base];
        const created = await Promise.all(subs.map((sub) => makeSession({ sub })));
        for (const s of created) await store.create(s, HOUR);
        for (const s of created) expect(await store.listUser(s.sub)).toEqual([s]);
      });
    });

    describe("marks", () => {
      it("reads back a mark, and nothing for one never written", async () => {
        const key = uniqueId("mark");
        expect(await store.getMark(key)).toBeNull();
        await store.putMark(key, "alice", HOUR);
        expect(await store.getMark(key)).toBe("alice");
        await store.putMark(key, "bob", HOUR);
        expect(await store.getMark(key)).toBe("bob");
      });

      it("lets a single-use marker be claimed once", async () => {
        const key = uniqueId("jti");
        expect(await store.claimMark(key, HOUR)).toBe(true);
        expect(await store.claimMark(key, HOUR)).toBe(false);
        expect(await store.claimMark(uniqueId("jti"), HOUR)).toBe(true);
      });

      it("keeps marks apart from sessions and from each other", async () => {
        const session = await makeSession();
        await store.create(session, HOUR);
        await store.putMark(session.sid, "not a session", HOUR);
        expect(await store.get(session.sid)).toEqual(session);
        expect(await store.getMark(uniqueId("other"))).toBeNull();
      });
    });

    describe("the assertion keyset", () => {
      it("reads back exactly the text written, unicode and 20 KB included", async () => {
        const text = JSON.stringify({ v: 1, keys: [{ kid: uniqueId("kid"), note: "ü/日本語🙂", pad: "x".repeat(20_000) }] });
        await store.writeKeyset(text);
        expect(await store.readKeyset()).toBe(text);
      });

      it("replaces the keyset on every write: one record, last write wins", async () => {
        const [first, second] = [uniqueId("first"), uniqueId("second")];
        await store.writeKeyset(first);
        await store.writeKeyset(second);
        expect(await store.readKeyset()).toBe(second);
      });

      it("keeps the keyset apart from sessions and the user index", async () => {
        const text = uniqueId("keyset");
        await store.writeKeyset(text);
        const session = await makeSession();
        await store.create(session, HOUR);
        await store.revoke(session.sid, session.sub, HOUR);
        expect(await store.readKeyset()).toBe(text);
        expect(await store.listUser(session.sub)).toEqual([]);
      });
    });

    if (can.moveClock)
      describe("time to live", () => {
        const ifClock = (title: string, test: (advance: (ms: number) => void) => Promise<void>) =>
          it(title, async () => {
            if (!subject.advance) throw new Error(`${name}: declares moveClock but gives no advance()`);
            await test(subject.advance);
          });

        ifClock("keeps a session, its pointer and its index entry for exactly their ttl", async (advance) => {
          const session = await makeSession();
          await store.create(session, 10 * MINUTE);
          advance(10 * MINUTE - 1);
          expect(await store.lookup(session.tokenHash)).not.toBeNull();
          expect(await store.listUser(session.sub)).toEqual([session]);
          advance(1);
          expect(await store.lookup(session.tokenHash)).toBeNull();
          expect(await store.get(session.sid)).toBeNull();
          expect(await store.listUser(session.sub)).toEqual([]);
        });

        ifClock("forgets a mark and a claimed marker after their ttl, so the marker can be claimed again", async (advance) => {
          const [mark, marker] = [uniqueId("mark"), uniqueId("jti")];
          await store.putMark(mark, "alice", MINUTE);
          expect(await store.claimMark(marker, MINUTE)).toBe(true);
          advance(MINUTE);
          expect(await store.getMark(mark)).toBeNull();
          expect(await store.claimMark(marker, MINUTE)).toBe(true);
        });

        ifClock("gives a rotation's pointer and session the rotation's ttl, leaving the old pointer its own", async (advance) => {
          const first = await makeSession();
          await store.create(first, 2 * HOUR);
          const next = await successorOf(first);
          await store.rotate(next, HOUR);
          advance(HOUR);
          expect(await store.lookup(next.tokenHash)).toBeNull();
          expect(await store.lookup(first.tokenHash)).toEqual({ token: { sid: first.sid, gen: 0 }, session: null, revoked: false });
        });

        ifClock("keeps the revocation mark for its own ttl, whatever later writes ask", async (advance) => {
          const session = await makeSession();
          await store.create(session, 2 * HOUR);
          await store.revoke(session.sid, session.sub, HOUR);
          await store.update(session, MINUTE);
          await store.revoke(session.sid, session.sub, HOUR);
          advance(HOUR - 1);
          expect(await store.lookup(session.tokenHash)).toMatchObject({ revoked: true });
          advance(1);
          expect(await store.lookup(session.tokenHash)).toEqual({ token: { sid: session.sid, gen: 0 }, session: null, revoked: false });
        });

        ifClock("keeps the assertion keyset without expiry", async (advance) => {
          const text = uniqueId("keyset");
          await store.writeKeyset(text);
          advance(10 * 365 * 24 * HOUR);
          expect(await store.readKeyset()).toBe(text);
        });
      });

    if (can.corrupt)
      describe("corrupted values", () => {
        const ifCorrupt = <T>(
          cases: Array<[string, T]>,
          title: string,
          test: (corrupt: NonNullable<StoreUnderTest["corrupt"]>, value: T) => Promise<void>,
        ) =>
          it.for(cases)(title, async ([, value]) => {
            if (!subject.corrupt) throw new Error(`${name}: declares corrupt but gives no corrupt()`);
            await test(subject.corrupt, value);
          });

        ifCorrupt(CORRUPT_POINTERS, "refuses a token pointer holding %s with CorruptRecordError", async (corrupt, raw) => {
          const tokenHash = await freshTokenHash();
          await corrupt(KEY.token(tokenHash), raw(uniqueId("sid")));
          await expect(store.lookup(tokenHash)).rejects.toBeInstanceOf(CorruptRecordError);
        });

        ifCorrupt(CORRUPT_SESSIONS, "refuses a session holding %s with CorruptRecordError", async (corrupt, raw) => {
          const session = await makeSession();
          await store.create(session, HOUR);
          await corrupt(KEY.session(session.sid), raw(session));
          await expect(store.lookup(session.tokenHash)).rejects.toBeInstanceOf(CorruptRecordError);
        });

        ifCorrupt(CORRUPT_SESSIONS, "never hands out a session holding %s from get or listUser", async (corrupt, raw) => {
          const session = await makeSession();
          await store.create(session, HOUR);
          await corrupt(KEY.session(session.sid), raw(session));
          const read = await store.get(session.sid).catch((error: unknown) => error);
          expect(read === null || read instanceof CorruptRecordError).toBe(true);
          expect(await store.listUser(session.sub)).toEqual([]);
        });

        ifCorrupt([["garbage", "{not json"]], "still reports revoked when the revocation mark holds %s (fails closed)", async (corrupt, raw) => {
          const session = await makeSession();
          await store.create(session, HOUR);
          await corrupt(KEY.revoked(session.sid), raw);
          expect(await store.lookup(session.tokenHash)).toMatchObject({ revoked: true });
        });
      });
  });
}
