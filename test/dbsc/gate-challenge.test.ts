import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { hmacKey } from "../../src/derive";
import { fromBase64url } from "../../src/util/encoding";
import { CHALLENGE_KEY_INFO, CHALLENGE_MAX_AGE_MS, createChallenges } from "../../src/dbsc/challenge";

const SECRET = "test-gate-secret-0123456789abcdef0123456789abcdef";
const SID = "q3Zq1cS7bV0r9mPzYw2xkA";
/** 2026-01-01T00:00:00Z: a whole second. */
const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;

async function setup(start = T0) {
  let t = start;
  const key = await hmacKey(SECRET, CHALLENGE_KEY_INFO, ["sign", "verify"]);
  return { challenges: createChallenges(key, () => t), at: (ms: number) => (t = ms), key };
}

describe("challenges: issue and verify", () => {
  it("issues <issue second>.<43-char base64url MAC> and verifies it for the same sid, gen and purpose", async () => {
    const { challenges } = await setup(T0 + 123);
    const c = await challenges.issue(SID, 3, "refresh");
    expect(c).toMatch(new RegExp(`^${T0 / 1000}\\.[A-Za-z0-9_-]{43}$`));
    expect(await challenges.verify(c, SID, 3, "refresh")).toBe(true);
  });

  it("is stateless and deterministic within a second, and differs across generations and purposes", async () => {
    const { challenges } = await setup();
    const a = await challenges.issue(SID, 0, "registration");
    expect(await challenges.issue(SID, 0, "registration")).toBe(a);
    expect(await challenges.issue(SID, 1, "registration")).not.toBe(a);
    expect(await challenges.issue(SID, 0, "refresh")).not.toBe(a);
  });

  it("refuses a challenge for another sid, another generation or the other purpose", async () => {
    const { challenges } = await setup();
    const reg = await challenges.issue(SID, 5, "registration");
    const ref = await challenges.issue(SID, 5, "refresh");
    expect(await challenges.verify(reg, "another-sid", 5, "registration")).toBe(false);
    expect(await challenges.verify(reg, SID, 4, "registration")).toBe(false);
    expect(await challenges.verify(reg, SID, 6, "registration")).toBe(false); // a refresh moved the generation on: no replay
    expect(await challenges.verify(reg, SID, 5, "refresh")).toBe(false);
    expect(await challenges.verify(ref, SID, 5, "registration")).toBe(false);
  });

  it("refuses a challenge made under another key (another GATE_SECRET, or another purpose's derived key)", async () => {
    const { challenges } = await setup();
    const other = createChallenges(await hmacKey(`${SECRET}x`, CHALLENGE_KEY_INFO, ["sign", "verify"]), () => T0);
    const rotation = createChallenges(await hmacKey(SECRET, "gatehouse/rotation/v1", ["sign", "verify"]), () => T0);
    expect(await challenges.verify(await other.issue(SID, 0, "refresh"), SID, 0, "refresh")).toBe(false);
    expect(await challenges.verify(await rotation.issue(SID, 0, "refresh"), SID, 0, "refresh")).toBe(false);
  });
});

describe("challenges: at most 5 minutes old", () => {
  it("accepts at 4:59 and refuses at 5:01 after issue, whenever in a second it was issued", async () => {
    for (const offset of [0, 1, 500, 999]) {
      const { challenges, at } = await setup(T0 + offset);
      const c = await challenges.issue(SID, 0, "refresh");
      at(T0 + offset + 4 * MIN + 59_000);
      expect(await challenges.verify(c, SID, 0, "refresh")).toBe(true);
      at(T0 + offset + 5 * MIN + 1_000);
      expect(await challenges.verify(c, SID, 0, "refresh")).toBe(false);
    }
  });

  it("lives exactly 5 minutes from its issue second, and no longer from its issue instant", async () => {
    const { challenges, at } = await setup(T0);
    const c = await challenges.issue(SID, 0, "refresh");
    at(T0 + CHALLENGE_MAX_AGE_MS);
    expect(await challenges.verify(c, SID, 0, "refresh")).toBe(true);
    at(T0 + CHALLENGE_MAX_AGE_MS + 1);
    expect(await challenges.verify(c, SID, 0, "refresh")).toBe(false);
    const late = await setup(T0 + 999);
    const d = await late.challenges.issue(SID, 0, "refresh");
    late.at(T0 + 999 + CHALLENGE_MAX_AGE_MS);
    expect(await late.challenges.verify(d, SID, 0, "refresh")).toBe(false); // 300.999 s after its second began
  });

  it("tolerates 5 s of clock skew into the future and no more", async () => {
    const { challenges, at } = await setup(T0 + 10_000);
    const c = await challenges.issue(SID, 0, "refresh");
    at(T0 + 5_000);
    expect(await challenges.verify(c, SID, 0, "refresh")).toBe(true);
    at(T0 + 4_999);
    expect(await challenges.verify(c, SID, 0, "refresh")).toBe(false);
  });
});

describe("challenges: tampering and hostile input", () => {
  it("refuses a changed issue second, a changed MAC, non-canonical spellings and extra characters", async () => {
    const { challenges, at } = await setup(T0 + 30_000);
    const c = await challenges.issue(SID, 0, "refresh");
    at(T0 + 60_000);
    const [t, mac] = c.split(".");
    const flip = (ch: string) => (ch === "A" ? "B" : "A");
    const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    // The 43rd character carries 4 bits and 2 padding bits; setting a padding bit decodes to the same bytes.
    const sameBytes = `${mac.slice(0, 42)}${B64[B64.indexOf(mac[42]) + 1]}`;
    expect(fromBase64url(sameBytes)).toEqual(fromBase64url(mac));
    const tampered = [
      `${Number(t) + 1}.${mac}`,
      `${Number(t) - 1}.${mac}`,
      `0${t}.${mac}`,
      `${t}.${flip(mac[0])}${mac.slice(1)}`,
      `${t}.${sameBytes}`,
      `${t}.${mac}=`,
      `${t}.${mac}A`,
      ` ${c}`,
      `${t}.${mac.slice(0, 42)}`,
      `${t}:${mac}`,
      `"${c}"`,
    ];
    for (const bad of tampered) expect(await challenges.verify(bad, SID, 0, "refresh"), bad).toBe(false);
    expect(await challenges.verify(c, SID, 0, "refresh")).toBe(true);
  });

  it("answers false, never throws, for any text or a malformed sid, generation or purpose", async () => {
    const { challenges } = await setup();
    const c = await challenges.issue(SID, 0, "refresh");
    for (const gen of [-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1]) expect(await challenges.verify(c, SID, gen, "refresh")).toBe(false);
    expect(await challenges.verify(c, "", 0, "refresh")).toBe(false);
    expect(await challenges.verify(c, SID, 0, "login" as "refresh")).toBe(false);
    for (const value of [undefined, null, 42, {}, [c]]) expect(await challenges.verify(value, SID, 0, "refresh")).toBe(false);
    await fc.assert(fc.asyncProperty(fc.string({ unit: "binary", maxLength: 80 }), async (s) => !(await challenges.verify(s, SID, 0, "refresh"))));
  });

  it("refuses to issue for an invalid generation or an empty sid", async () => {
    const { challenges } = await setup();
    await expect(challenges.issue(SID, -1, "refresh")).rejects.toThrow(TypeError);
    await expect(challenges.issue(SID, 0.5, "refresh")).rejects.toThrow(TypeError);
    await expect(challenges.issue("", 0, "refresh")).rejects.toThrow(TypeError);
  });
});
