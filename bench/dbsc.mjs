// Device-bound sessions for the benchmark (W3C DBSC, docs/dbsc.md): a small
// signer in Node that does what a browser does, with WebCrypto and jose.
//   bindSessions()  logs in, takes the `Secure-Session-Registration` offer and
//                   registers an ES256 key: a `dbsc+jwt` proof with the public key
//                   in its `jwk` header and the challenge as `jti`.
//   refresh()       POST /_gate/dbsc/refresh with a proof (no `jwk`) over the
//                   last challenge; a 403 brings a fresh challenge, signed once more.
//   refreshLoad()   `concurrency` chains of refreshes for `seconds`: the refresh-cost run.
// Each bound session is { cookie, sid, key, challenge, boundAt }; `cookie` is
// always its newest bound token.
import { randomBytes } from "node:crypto";
import { SignJWT, exportJWK } from "jose";

export const REGISTRATION_PATH = "/_gate/dbsc/registration";
export const REFRESH_PATH = "/_gate/dbsc/refresh";

const sessionCookieOf = (response) =>
  response.headers
    .getSetCookie()
    .map((value) => value.split(";")[0])
    .find((pair) => pair.startsWith("__Host-session=") && pair.length > "__Host-session=".length);

/** The sf-string challenge of `Secure-Session-Challenge: "<c>";id="<sid>"`. */
const challengeOf = (response) => /^"([^"]*)"/.exec(response.headers.get("secure-session-challenge") ?? "")?.[1];

/** A proof: registration carries the public key (`jwk`), a refresh must not. */
function prove(key, challenge, jwk) {
  return new SignJWT({})
    .setProtectedHeader({ alg: "ES256", typ: "dbsc+jwt", ...(jwk ? { jwk } : {}) })
    .setJti(challenge)
    .sign(key);
}

async function fail(what, response) {
  const body = await response.text().catch(() => "");
  throw new Error(`${what}: ${response.status} ${body.slice(0, 200)}`);
}

/** Logs in once and binds the new session to a fresh ES256 key. */
async function bindOne(baseUrl, name, headers) {
  const login = await fetch(`${baseUrl}/login?sub=${name}-${randomBytes(4).toString("hex")}`, { headers });
  await login.arrayBuffer();
  const cookie = sessionCookieOf(login);
  const offered = /challenge="([^"]+)"/.exec(login.headers.get("secure-session-registration") ?? "")?.[1];
  if (!login.ok || !cookie || !offered) throw new Error(`login at ${baseUrl} gave no DBSC registration offer (${login.status})`);
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
  const { kty, crv, x, y } = await exportJWK(pair.publicKey);
  const proof = await prove(pair.privateKey, offered, { kty, crv, x, y });
  const registered = await fetch(`${baseUrl}${REGISTRATION_PATH}`, {
    method: "POST",
    headers: { ...headers, cookie, origin: baseUrl, "secure-session-response": proof },
  });
  if (registered.status !== 200) return fail(`DBSC registration at ${baseUrl}`, registered);
  const config = await registered.json();
  const bound = sessionCookieOf(registered);
  if (!bound || !config.session_identifier) throw new Error("DBSC registration answered without a bound cookie or a session id");
  return { cookie: bound, sid: config.session_identifier, key: pair.privateKey, challenge: challengeOf(registered), boundAt: Date.now() };
}

/** `count` bound sessions, 16 registrations at a time. */
export async function bindSessions(baseUrl, count, { prefix = "dbsc", headers }) {
  const sessions = [];
  for (let start = 0; start < count; start += 16) {
    const batch = Array.from({ length: Math.min(16, count - start) }, (_, i) => bindOne(baseUrl, `${prefix}-${start + i}`, headers));
    sessions.push(...(await Promise.all(batch)));
  }
  return sessions;
}

/**
 * One refresh of a bound session, as Chrome makes it: the proof over the
 * cached challenge; on a 403 (the challenge expired) the fresh one is signed
 * and sent once more. Updates `session` in place; returns the requests it took.
 */
export async function refresh(baseUrl, session, headers) {
  for (let attempt = 0; attempt < 2; attempt++) {
    const proof = await prove(session.key, session.challenge ?? "", undefined);
    const response = await fetch(`${baseUrl}${REFRESH_PATH}`, {
      method: "POST",
      headers: { ...headers, origin: baseUrl, "sec-secure-session-id": session.sid, "secure-session-response": proof },
    });
    session.challenge = challengeOf(response) ?? session.challenge;
    if (response.status === 200) {
      await response.arrayBuffer();
      session.cookie = sessionCookieOf(response) ?? session.cookie;
      session.boundAt = Date.now();
      return attempt + 1;
    }
    if (response.status !== 403) return fail("DBSC refresh", response);
    await response.arrayBuffer();
  }
  throw new Error("DBSC refresh: refused twice with a fresh challenge");
}

/**
 * Refreshes the sessions whose bound cookie is older than `maxAgeMs`, so that
 * none runs out (`device_cookie_ttl`) during a measured run.
 */
export async function keepBound(baseUrl, sessions, headers, maxAgeMs) {
  const stale = sessions.filter((session) => Date.now() - session.boundAt > maxAgeMs);
  for (let start = 0; start < stale.length; start += 16) await Promise.all(stale.slice(start, start + 16).map((s) => refresh(baseUrl, s, headers)));
  return stale.length;
}

/** Chains of refreshes, one per session, for `seconds`: how many completed, and the requests they took. */
export async function refreshLoad(baseUrl, sessions, headers, seconds) {
  const deadline = Date.now() + seconds * 1000;
  let refreshes = 0;
  let requests = 0;
  await Promise.all(
    sessions.map(async (session) => {
      while (Date.now() < deadline) {
        const took = await refresh(baseUrl, session, headers);
        requests += took;
        refreshes++;
      }
    }),
  );
  return { refreshes, requests, seconds };
}
