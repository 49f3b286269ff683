// What signing X-Gate-Assertion costs per request, with the private key
// imported once per isolate (what the gate does: src/assertion/signing-keys.ts caches
// the CryptoKey by kid) against importing it for every request (open the
// sealed seed with AES-256-GCM, import PKCS #8, then sign).
//
//   node bench/assertion-sign.mjs [iterations]
//
// The same function runs inside workerd too: import { benchAssertionSigning }
// from a Worker or a vitest-pool-workers test (workerd's timers only advance
// across I/O in production, so measure there under `wrangler dev` or vitest).
import { SignJWT } from "jose";

const PKCS8_ED25519_PREFIX = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
const pkcs8 = (seed) => new Uint8Array([...PKCS8_ED25519_PREFIX, ...seed]);

/** Claims shaped like the gate's (src/assertion/sign.ts). */
function claims() {
  const iat = Math.floor(Date.now() / 1000);
  return {
    iss: "https://gate.example.com",
    aud: "https://origin.example.com",
    sub: "alice@example.com",
    sid: "Qm9vb29vb29vb29vb29vbw",
    roles: ["user", "editor"],
    auth_time: iat - 600,
    iat,
    exp: iat + 60,
    jti: crypto.randomUUID(),
    htm: "GET",
    htu: "https://gate.example.com/dashboard",
  };
}

const header = { alg: "EdDSA", kid: "rr9r-3YIF84GtxxQWhCchSG6e4tHZ0ODgi9NGTLPlgI", typ: "JWT" };

async function measure(iterations, work) {
  for (let i = 0; i < Math.min(200, iterations); i++) await work(); // warm up
  const start = performance.now();
  for (let i = 0; i < iterations; i++) await work();
  return ((performance.now() - start) * 1000) / iterations;
}

/** Microseconds per operation for each way of signing. */
export async function benchAssertionSigning({ iterations = 5_000 } = {}) {
  const seed = crypto.getRandomValues(new Uint8Array(32));
  const wrap = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const additionalData = new TextEncoder().encode(header.kid);
  const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData }, wrap, seed);
  const cached = await crypto.subtle.importKey("pkcs8", pkcs8(seed), { name: "Ed25519" }, false, ["sign"]);
  const sign = (key) => new SignJWT(claims()).setProtectedHeader(header).sign(key);
  return {
    "sign, key imported once (the gate)": await measure(iterations, () => sign(cached)),
    "import per request (importKey + sign)": await measure(iterations, async () =>
      sign(await crypto.subtle.importKey("pkcs8", pkcs8(seed), { name: "Ed25519" }, false, ["sign"])),
    ),
    "unseal + import per request (AES-GCM + importKey + sign)": await measure(iterations, async () => {
      const opened = new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv, additionalData }, wrap, sealed));
      return sign(await crypto.subtle.importKey("pkcs8", pkcs8(opened), { name: "Ed25519" }, false, ["sign"]));
    }),
    "raw Ed25519 signature only (crypto.subtle.sign, no JWT)": await measure(iterations, () =>
      crypto.subtle.sign("Ed25519", cached, new TextEncoder().encode(JSON.stringify(claims()))),
    ),
  };
}

if (typeof process !== "undefined" && import.meta.url === (await import("node:url")).pathToFileURL(process.argv[1] ?? "").href) {
  const iterations = Number(process.argv[2] ?? 5_000);
  const results = await benchAssertionSigning({ iterations });
  console.log(`X-Gate-Assertion signing, Node ${process.version}, ${iterations} iterations each`);
  for (const [name, micros] of Object.entries(results)) console.log(`  ${micros.toFixed(1).padStart(7)} µs  ${name}`);
}
