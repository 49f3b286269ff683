import { describe, expect, it } from "vitest";
import { createTransactionSeal, transactionCookieName, transactionCookies } from "../../src/oidc/transaction";
import { createClock } from "../helpers/gate";
import { atProvider, callback, createOidcGate, startLogin } from "./helpers";
import { expectRefused } from "./refusals";

const TRANSACTION = { provider: "corp", state: "s".repeat(43), verifier: "v".repeat(43), nonce: "n".repeat(43), next: "/x", createdAt: 1 };

describe("the transaction seal", () => {
  it("opens what it sealed, under the same name only", async () => {
    const seal = createTransactionSeal("test-gate-secret-0123456789abcdef0123456789abcdef");
    const name = transactionCookieName(TRANSACTION.state);
    const sealed = await seal.seal(name, { ...TRANSACTION, maxAge: 0 });
    expect(await seal.open(name, sealed)).toEqual({ ...TRANSACTION, maxAge: 0 });
    expect(await seal.open(`${name}x`, sealed)).toBeUndefined();
    expect(await seal.open(name, `${sealed.slice(0, -2)}AA`)).toBeUndefined();
    expect(await seal.open(name, "not base64url!")).toBeUndefined();
    const other = createTransactionSeal("another-gate-secret-0123456789abcdef0123456789");
    expect(await other.open(name, sealed)).toBeUndefined();
  });

  it("finds transaction cookies by their prefix, and notices one sent twice", () => {
    const found = transactionCookies("a=1; __Host-gate-oidc-abc=x; __Host-gate-oidc-def=y; __Host-gate-oidc-abc=z; __Host-session=t");
    expect([...found]).toEqual([
      ["__Host-gate-oidc-abc", ["x", "z"]],
      ["__Host-gate-oidc-def", ["y"]],
    ]);
  });
});

describe("a transaction", () => {
  it("is refused after 10 minutes, before anything is sent to the provider", async () => {
    const clock = createClock();
    clock.now = Date.now();
    const gate = await createOidcGate({ clock });
    const { location, transaction } = await startLogin(gate);
    const { callbackUrl } = await atProvider(location);
    clock.advance(10 * 60_000 + 1);
    await expectRefused(gate, await callback(gate, callbackUrl, [transaction], { Accept: "application/json" }), 401, "transaction_expired");
  });
});
