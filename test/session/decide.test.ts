import { describe, expect, it } from "vitest";
import { bindingVerdict, expiryOf, remainingLife, rotationDue, touchDue, touchInterval, withinGrace } from "../../src/session/decide";
import type { SessionRecord } from "../../src/store/types";

const MINUTE = 60_000;
const T = Date.UTC(2026, 0, 1);

/** A cookie session created at T with the contract's default timeouts. */
function session(overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    sid: "sid",
    sub: "alice",
    roles: [],
    createdAt: T,
    authTime: T,
    lastSeenAt: T,
    expiresAt: T + 12 * 60 * MINUTE,
    idleTimeout: 30 * MINUTE,
    gen: 0,
    tokenHash: "hash",
    rotatedAt: T,
    rotates: true,
    fingerprint: "chrome/126|203.0.113",
    userAgent: "",
    ip: "203.0.113.7",
    ...overrides,
  };
}

describe("expiryOf", () => {
  it("ends a session at its absolute end, however recently used", () => {
    const s = session({ lastSeenAt: T + 12 * 60 * MINUTE - 1 });
    expect(expiryOf(s, s.expiresAt - 1)).toBeUndefined();
    expect(expiryOf(s, s.expiresAt)).toBe("absolute_timeout");
  });

  it("ends a session idle_timeout after its last recorded use", () => {
    expect(expiryOf(session(), T + 30 * MINUTE - 1)).toBeUndefined();
    expect(expiryOf(session(), T + 30 * MINUTE)).toBe("idle_timeout");
  });

  it("never idles out a bearer session (no idle timeout)", () => {
    expect(expiryOf(session({ idleTimeout: null }), T + 11 * 60 * MINUTE)).toBeUndefined();
  });
});

describe("rotationDue", () => {
  const policy = { rotateEvery: 15 * MINUTE };
  it("is due for a cookie session rotate_every after its last rotation, not before", () => {
    expect(rotationDue(session(), true, T + 15 * MINUTE - 1, policy)).toBe(false);
    expect(rotationDue(session(), true, T + 15 * MINUTE, policy)).toBe(true);
  });

  it("is never due for a bearer credential or a session that does not rotate", () => {
    expect(rotationDue(session(), false, T + 60 * MINUTE, policy)).toBe(false);
    expect(rotationDue(session({ rotates: false }), true, T + 60 * MINUTE, policy)).toBe(false);
  });
});

describe("touchDue and touchInterval", () => {
  it("rewrites last use every 10 % of the idle timeout, at least 1 s and at most 60 s apart", () => {
    expect(touchInterval(30 * MINUTE)).toBe(MINUTE);
    expect(touchInterval(5 * MINUTE)).toBe(30_000);
    expect(touchInterval(2_000)).toBe(1_000);
  });

  it("is due once the stored last use is a touch interval old", () => {
    const policy = { idleTimeout: 30 * MINUTE };
    expect(touchDue(session(), T + MINUTE - 1, policy)).toBe(false);
    expect(touchDue(session(), T + MINUTE, policy)).toBe(true);
  });

  it("uses the configured idle timeout for sessions that have none of their own", () => {
    expect(touchDue(session({ idleTimeout: null }), T + 30_000, { idleTimeout: 5 * MINUTE })).toBe(true);
  });
});

describe("withinGrace", () => {
  it("accepts the previous token for rotation_grace after the rotation, not a millisecond more", () => {
    const rotated = session({ gen: 1, rotatedAt: T + 15 * MINUTE });
    expect(withinGrace(rotated, T + 15 * MINUTE + 29_999, { rotationGrace: 30_000 })).toBe(true);
    expect(withinGrace(rotated, T + 15 * MINUTE + 30_000, { rotationGrace: 30_000 })).toBe(false);
  });
});

describe("bindingVerdict", () => {
  const same = () => "chrome/126|203.0.113";
  const other = () => "firefox/140|198.51.100";

  it("holds when the fingerprint matches, whatever the mode", () => {
    for (const mode of ["off", "report", "enforce"] as const) expect(bindingVerdict(session(), same, mode)).toBe("holds");
  });

  it("reports or refuses a mismatch according to the mode", () => {
    expect(bindingVerdict(session(), other, "report")).toBe("report");
    expect(bindingVerdict(session(), other, "enforce")).toBe("refuse");
  });

  it("does not compute the request's fingerprint when binding cannot apply", () => {
    const never = () => {
      throw new Error("computed");
    };
    expect(bindingVerdict(session(), never, "off")).toBe("holds");
    expect(bindingVerdict(session({ fingerprint: "" }), never, "enforce")).toBe("holds");
  });
});

describe("remainingLife", () => {
  it("is the time to the absolute end, at least 1 ms", () => {
    expect(remainingLife(session(), T)).toBe(12 * 60 * MINUTE);
    expect(remainingLife(session(), T + 13 * 60 * MINUTE)).toBe(1);
  });
});
