import { describe, expect, it } from "vitest";
import { createTestGate } from "../helpers/gate";
import { expectRefused } from "./helpers";

describe("request framing the gate must not forward", () => {
  it("answers 400 to a body framed both by Content-Length and Transfer-Encoding, nothing forwarded", async () => {
    const gate = await createTestGate();
    const response = await gate.request("/public/page", {
      method: "POST",
      body: "abc",
      headers: { "Content-Length": "4", "Transfer-Encoding": "chunked", "Sec-Fetch-Site": "same-origin", Accept: "application/json" },
    });
    await expectRefused(gate, response, 400, "bad_request");
    expect(gate.events("request.rejected")).toEqual([expect.objectContaining({ reason: "ambiguous_framing" })]);
  });

  it("forwards an ordinary body with its own length", async () => {
    const gate = await createTestGate();
    await gate.request("/public/page", { method: "POST", body: "abc", headers: { "Sec-Fetch-Site": "same-origin" } });
    expect(gate.origin.last()).toMatchObject({ method: "POST", body: "abc" });
  });
});
