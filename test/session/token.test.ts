import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { TOKEN_PATTERN, hashToken, isTokenShaped, newSid, newToken, successorOf } from "../../src/session/token";
import { deriveKeys } from "../../src/derive";
import { base64url } from "../../src/util/encoding";

const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const TOKEN = "N9_mNPaxS5YQG4Gho9ijkrjDe1x7TNu-XTmz-yqNf7c";

describe("token shape", () => {
  it("accepts exactly 43 base64url characters", () => {
    expect(TOKEN).toHaveLength(43);
    expect(isTokenShaped(TOKEN)).toBe(true);
    expect(isTokenShaped("A".repeat(43))).toBe(true);
    expect(isTokenShaped("-".repeat(21) + "_".repeat(22))).toBe(true);
  });

  it("refuses 42 and 44 characters", () => {
    expect(isTokenShaped(TOKEN.slice(1))).toBe(false);
    expect(isTokenShaped(`${TOKEN}A`)).toBe(false);
  });

  it("refuses standard base64's + and /, and = padding", () => {
    expect(isTokenShaped(`${TOKEN.slice(0, 42)}+`)).toBe(false);
    expect(isTokenShaped(`${TOKEN.slice(0, 42)}/`)).toBe(false);
    expect(isTokenShaped(`${TOKEN}=`)).toBe(false);
    expect(isTokenShaped(`${TOKEN.slice(0, 42)}=`)).toBe(false);
  });

  it("refuses non-ASCII look-alikes and other punctuation", () => {
    for (const char of ["é", "А" /* Cyrillic A */, "０", "!", ".", "~", "%", " ", "\0"]) {
      expect(isTokenShaped(TOKEN.slice(0, 42) + char), JSON.stringify(char)).toBe(false);
    }
  });

  it("refuses surrounding whitespace and a trailing newline", () => {
    expect(isTokenShaped(` ${TOKEN.slice(1)}`)).toBe(false);
    expect(isTokenShaped(`${TOKEN}\n`)).toBe(false);
    expect(isTokenShaped(`${TOKEN.slice(1)}\n`)).toBe(false);
  });

  it("refuses nothing at all", () => {
    expect(isTokenShaped(undefined)).toBe(false);
    expect(isTokenShaped("")).toBe(false);
  });

  it("accepts a string exactly when it is 43 base64url characters (property)", () => {
    const near = fc.string({ unit: fc.constantFrom(...BASE64URL, "+", "/", "=", ".", "é", "\n"), minLength: 41, maxLength: 45 });
    fc.assert(
      fc.property(fc.oneof(near, fc.string({ unit: "binary", maxLength: 60 })), (value) => {
        const expected = value.length === 43 && [...value].every((char) => BASE64URL.includes(char));
        expect(isTokenShaped(value)).toBe(expected);
      }),
      { numRuns: 2_000 },
    );
  });

  it("gives every 32 bytes a token-shaped encoding (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        expect(base64url(bytes)).toMatch(TOKEN_PATTERN);
      }),
    );
  });
});

describe("newToken and newSid", () => {
  it("makes token-shaped tokens of 43 characters", () => {
    for (let i = 0; i < 100; i++) {
      const token = newToken();
      expect(token).toHaveLength(43);
      expect(isTokenShaped(token)).toBe(true);
    }
  });

  it("never repeats a token", () => {
    const tokens = new Set(Array.from({ length: 2_000 }, newToken));
    expect(tokens.size).toBe(2_000);
  });

  it("makes sids of 128 bits that never repeat and are not token-shaped", () => {
    const sids = Array.from({ length: 2_000 }, newSid);
    expect(new Set(sids).size).toBe(2_000);
    for (const sid of sids.slice(0, 50)) {
      expect(sid).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(isTokenShaped(sid)).toBe(false);
    }
  });
});

describe("hashToken", () => {
  it("is not the token and does not contain it", async () => {
    const hash = await hashToken(TOKEN);
    expect(hash).not.toBe(TOKEN);
    expect(hash).not.toContain(TOKEN.slice(0, 16));
  });

  it("is SHA-256 in base64url: deterministic and 43 characters", async () => {
    expect(await hashToken(TOKEN)).toBe(await hashToken(TOKEN));
    expect(await hashToken(TOKEN)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("differs for tokens that differ in one character", async () => {
    const other = TOKEN.slice(0, 42) + (TOKEN[42] === "c" ? "d" : "c");
    expect(await hashToken(other)).not.toBe(await hashToken(TOKEN));
  });
});

describe("successorOf", () => {
  const secret = "test-gate-secret-0123456789abcdef0123456789abcdef";

  it("is deterministic under one key, so racing requests agree", async () => {
    const { rotation } = await deriveKeys(secret);
    const again = await deriveKeys(secret);
    expect(await successorOf(TOKEN, rotation)).toBe(await successorOf(TOKEN, rotation));
    expect(await successorOf(TOKEN, again.rotation)).toBe(await successorOf(TOKEN, rotation));
  });

  it("differs by key", async () => {
    const one = await deriveKeys(secret);
    const two = await deriveKeys(secret.replace("test", "prod"));
    expect(await successorOf(TOKEN, one.rotation)).not.toBe(await successorOf(TOKEN, two.rotation));
  });

  it("is itself a token, and differs from the token and its hash", async () => {
    const { rotation } = await deriveKeys(secret);
    const successor = await successorOf(TOKEN, rotation);
    expect(isTokenShaped(successor)).toBe(true);
    expect(successor).not.toBe(TOKEN);
    expect(successor).not.toBe(await hashToken(TOKEN));
  });

  it("gives different tokens different successors, each token-shaped (property)", async () => {
    const { rotation } = await deriveKeys(secret);
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), async (a, b) => {
        const [ta, tb] = [base64url(a), base64url(b)];
        const [sa, sb] = [await successorOf(ta, rotation), await successorOf(tb, rotation)];
        expect(isTokenShaped(sa)).toBe(true);
        expect(sa === sb).toBe(ta === tb);
      }),
      { numRuns: 200 },
    );
  });
});
