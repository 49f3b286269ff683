import { Hono } from "hono";
import { type GateEnv, waitUntil } from "../http/context";
import { type AssertionKeys, JWKS_MAX_AGE_SECONDS } from "../assertion/signing-keys";

/**
 * `GET /_gate/jwks.json`: the public keys of `X-Gate-Assertion` (contract §6),
 * for anyone, never forwarded: the key that signs now, the next one (published
 * before it signs) and retired ones (published until their last assertions
 * have expired). Shared caches may keep it for {@link JWKS_MAX_AGE_SECONDS};
 * the rotation periods are set so that this never hides a key in use
 * (docs/assertion.md). A store outage with nothing cached answers 503.
 */
export function jwks(keys: AssertionKeys) {
  return new Hono<GateEnv>().get("/jwks.json", async (c) => {
    const published = await keys.jwks((work) => waitUntil(c, work));
    c.header("Cache-Control", `public, max-age=${JWKS_MAX_AGE_SECONDS}`);
    return c.json({ keys: published });
  });
}
