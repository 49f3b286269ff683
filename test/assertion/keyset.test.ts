import { describe, expect, it } from "vitest";
import { type Keyset, type StoredKey, keyState, parseKeyset, publishedKeys, rotationPlan, signingKey } from "../../src/assertion/keyset";
import { DAY, HOUR, MINUTE } from "./helpers";

const PERIODS = { rotateEvery: 7 * DAY, publishAhead: HOUR, retain: HOUR };
const key = (kid: string, activatesAt: number, createdAt = Math.max(0, activatesAt - HOUR)): StoredKey => ({
  kid,
  x: `x-${kid}`,
  createdAt,
  activatesAt,
  sealed: "s",
});
const keyset = (...keys: StoredKey[]): Keyset => ({ v: 1, keys });

describe("the key schedule", () => {
  const t = 100 * DAY;
  const [old, current, next] = [key("old", t - 7 * DAY), key("current", t), key("next", t + HOUR)];
  const set = keyset(next, old, current); // stored order does not matter

  it("signs with the key that activated last, whatever the stored order", () => {
    expect(signingKey(set, t - 1).kid).toBe("old");
    expect(signingKey(set, t).kid).toBe("current");
    expect(signingKey(set, t + HOUR).kid).toBe("next");
  });

  it("gives each key its state: next, active, retired for `retain`, then removed", () => {
    const states = (now: number) => set.keys.map((k) => `${k.kid}:${keyState(set, k, now, HOUR)}`).sort();
    expect(states(t - 1)).toEqual(["current:next", "next:next", "old:active"]);
    expect(states(t + 30 * MINUTE)).toEqual(["current:active", "next:next", "old:retired"]);
    expect(states(t + HOUR)).toEqual(["current:retired", "next:active", "old:removed"]);
    expect(states(t + 2 * HOUR)).toEqual(["current:removed", "next:active", "old:removed"]);
  });

  it("publishes every key not removed, the signing one first", () => {
    expect(publishedKeys(set, t + 30 * MINUTE, HOUR).map((k) => k.kid)).toEqual(["current", "next", "old"]);
    expect(publishedKeys(set, t + HOUR, HOUR).map((k) => k.kid)).toEqual(["next", "current"]);
  });

  it("signs with the earliest key when the clock is behind every activation, rather than with none", () => {
    expect(signingKey(keyset(key("a", t), key("b", t + DAY)), t - DAY).kid).toBe("a");
  });

  it("breaks a tie of activation times by kid, the same way everywhere", () => {
    expect(signingKey(keyset(key("b", t), key("a", t)), t).kid).toBe("b");
    expect(signingKey(keyset(key("a", t), key("b", t)), t).kid).toBe("b");
  });
});

describe("the rotation plan", () => {
  it("replaces the genesis key at the first run, publish_ahead before it signs", () => {
    const now = 50 * DAY;
    expect(rotationPlan(keyset(key("genesis", 0)), now, PERIODS)).toEqual({ keep: [key("genesis", 0)], activateNewAt: now + HOUR });
  });

  it("schedules the successor rotate_every after the current key activated, once it is publish_ahead away", () => {
    const current = key("current", 0 + 10 * DAY);
    expect(rotationPlan(keyset(current), 17 * DAY - HOUR - 1, PERIODS).activateNewAt).toBeUndefined();
    expect(rotationPlan(keyset(current), 17 * DAY - HOUR, PERIODS).activateNewAt).toBe(17 * DAY);
  });

  it("never schedules two keys ahead", () => {
    expect(rotationPlan(keyset(key("a", 0), key("b", 30 * DAY)), 29 * DAY, PERIODS)).toEqual({ keep: [key("a", 0), key("b", 30 * DAY)] });
  });

  it("drops keys past retention and keeps the rest", () => {
    const plan = rotationPlan(keyset(key("a", 0), key("b", DAY), key("c", 2 * DAY)), 2 * DAY + HOUR, PERIODS);
    expect(plan.keep.map((k) => k.kid)).toEqual(["c"]);
  });
});

describe("parseKeyset", () => {
  it.each([
    ["text that is not JSON", "{"],
    ["null", "null"],
    ["another version", JSON.stringify({ v: 2, keys: [key("a", 0)] })],
    ["no keys", JSON.stringify({ v: 1, keys: [] })],
    ["a key without its sealed seed", JSON.stringify({ v: 1, keys: [{ ...key("a", 0), sealed: undefined }] })],
    ["a NaN activation time", JSON.stringify({ v: 1, keys: [key("a", Number.NaN)] })],
    ["a key that is not an object", JSON.stringify({ v: 1, keys: [null] })],
  ])("refuses %s", (_label, text) => {
    expect(parseKeyset(text)).toBeUndefined();
  });

  it("reads a well-formed keyset, keys in activation order", () => {
    expect(parseKeyset(JSON.stringify(keyset(key("b", DAY), key("a", 0))))?.keys.map((k) => k.kid)).toEqual(["a", "b"]);
  });
});
