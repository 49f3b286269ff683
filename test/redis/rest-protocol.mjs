// The wire format of Upstash's REST API, as the bridge speaks it: JSON command
// arrays in, `{ result }` / `{ error }` out, strings base64-encoded when the
// client sends `Upstash-Encoding: base64`. Pure helpers; the server is bridge.mjs.
import { isErrorReply } from "./redis-connection.mjs";

const MAX_BODY_BYTES = 8 * 1024 * 1024;
/**
 * Commands that would break the one shared, pipelined connection (connection
 * state, blocking, pub/sub, reply suppression) or that Upstash's REST API does
 * not offer either; transactions go through /multi-exec.
 */
const REFUSED = new Set([
  "multi",
  "exec",
  "discard",
  "watch",
  "unwatch",
  "select",
  "auth",
  "hello",
  "reset",
  "quit",
  "client",
  "monitor",
  "subscribe",
  "psubscribe",
  "ssubscribe",
  "unsubscribe",
  "punsubscribe",
  "sunsubscribe",
  "sync",
  "psync",
  "blpop",
  "brpop",
  "brpoplpush",
  "blmove",
  "blmpop",
  "bzpopmin",
  "bzpopmax",
  "bzmpop",
  "wait",
  "waitaof",
]);

/** A malformed request: answered 400 with `{ error }`. */
export class BadRequest extends Error {}

/** Turns one JSON command (`["SET", "k", "v", "EX", 60]`) into Redis arguments, or throws BadRequest. */
export function parseCommand(value) {
  if (!Array.isArray(value) || value.length === 0 || typeof value[0] !== "string") {
    throw new BadRequest("ERR a command must be a non-empty JSON array starting with the command name");
  }
  const args = value.map((arg) => {
    if (typeof arg === "string") return arg;
    if ((typeof arg === "number" && Number.isFinite(arg)) || typeof arg === "boolean") return String(arg);
    throw new BadRequest(`ERR command arguments must be strings or numbers, got ${JSON.stringify(arg)}`);
  });
  const name = args[0].toLowerCase();
  const blocking = (name === "xread" || name === "xreadgroup") && args.some((arg) => arg.toLowerCase() === "block");
  return { args, refused: REFUSED.has(name) || blocking ? `ERR '${args[0]}' is not available over the REST bridge` : undefined };
}

/**
 * A reply (as redis-connection.mjs gives it) as Upstash's JSON: strings
 * base64-encoded (at any depth) when asked, numbers and null as they are, an
 * error reply nested in an array as its message.
 */
export function toJson(reply, base64) {
  if (reply === null || typeof reply === "number") return reply;
  if (Array.isArray(reply)) return reply.map((item) => toJson(item, base64));
  const bytes = Buffer.isBuffer(reply) ? reply : Buffer.from(isErrorReply(reply) ? reply.message : reply, "utf8");
  return base64 ? bytes.toString("base64") : bytes.toString("utf8");
}

/** One entry of a /pipeline or /multi-exec answer. */
export function toEntry(reply, base64) {
  return isErrorReply(reply) ? { error: reply.message } : { result: toJson(reply, base64) };
}

/** Reads the request body as JSON, or throws BadRequest. */
export async function readJson(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BadRequest(`ERR request body exceeds ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new BadRequest("ERR failed to parse the request body as JSON");
  }
}

/** Answers with a JSON body. */
export function sendJson(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}
