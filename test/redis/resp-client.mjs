// A minimal RESP2 client over node:net for the test bridge: binary-safe,
// pipelined (one socket, replies matched to commands in order), lazily
// reconnecting. Error replies are values (RespError), not rejections; a
// rejection always means Redis could not be reached (RedisUnavailableError).
import { connect } from "node:net";

const CRLF = Buffer.from("\r\n");

/** An error reply from Redis (`-ERR ...`): a result, not a failure of the connection. */
export class RespError {
  constructor(message) {
    this.message = message;
  }
}

/** Redis could not be reached, or the connection broke before the reply arrived. */
export class RedisUnavailableError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = "RedisUnavailableError";
  }
}

/** Serialises one command (strings, numbers or Buffers) as a RESP array of bulk strings. */
export function encodeCommand(args) {
  const parts = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg), "utf8");
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, CRLF);
  }
  return Buffer.concat(parts);
}

/**
 * Parses one reply from `buf` at `start`. Returns `{ value, end }`, or
 * `undefined` when the buffer does not yet hold the whole reply. Simple
 * strings become JS strings, bulk strings Buffers, integers numbers, errors
 * RespError, and null bulk strings / null arrays `null`.
 */
export function parseReply(buf, start = 0) {
  const lineEnd = buf.indexOf(CRLF, start);
  if (lineEnd === -1) return undefined;
  const type = String.fromCharCode(buf[start]);
  const line = buf.toString("utf8", start + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case "+":
      return { value: line, end: next };
    case "-":
      return { value: new RespError(line), end: next };
    case ":":
      return { value: Number(line), end: next };
    case "$": {
      const length = Number(line);
      if (length < 0) return { value: null, end: next };
      if (buf.length < next + length + 2) return undefined;
      return { value: buf.subarray(next, next + length), end: next + length + 2 };
    }
    case "*": {
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items = [];
      let offset = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, offset);
        if (!item) return undefined;
        items.push(item.value);
        offset = item.end;
      }
      return { value: items, end: offset };
    }
    default:
      throw new Error(`RESP protocol error: unexpected type byte ${JSON.stringify(type)}`);
  }
}

/**
 * Creates a client for one Redis server. `send(commands)` writes a batch of
 * commands in a single write (so MULTI ... EXEC cannot interleave with another
 * batch) and resolves with one reply per command.
 */
export function createRespClient({ host = "127.0.0.1", port, password, db, connectTimeoutMs = 200, replyTimeoutMs = 5_000 }) {
  let socket = null;
  let connecting = null;
  let buffer = Buffer.alloc(0);
  /** One entry per reply still expected on the current socket, in order. */
  let pending = [];

  function fail(error) {
    const waiting = pending;
    pending = [];
    buffer = Buffer.alloc(0);
    for (const entry of waiting) entry.reject(error);
  }

  function onData(chunk) {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    let offset = 0;
    for (;;) {
      let parsed;
      try {
        parsed = parseReply(buffer, offset);
      } catch (error) {
        socket?.destroy(error);
        return;
      }
      if (!parsed) break;
      offset = parsed.end;
      pending.shift()?.resolve(parsed.value);
    }
    buffer = offset === buffer.length ? Buffer.alloc(0) : buffer.subarray(offset);
  }

  function open() {
    return new Promise((resolve, reject) => {
      const attempt = connect({ host, port, noDelay: true });
      const timer = setTimeout(() => {
        attempt.destroy();
        reject(new RedisUnavailableError(`redis at ${host}:${port} did not accept a connection within ${connectTimeoutMs} ms`));
      }, connectTimeoutMs);
      attempt.once("error", (error) => {
        clearTimeout(timer);
        reject(new RedisUnavailableError(`redis at ${host}:${port} is unreachable: ${error.code ?? error.message}`, { cause: error }));
      });
      attempt.once("connect", () => {
        clearTimeout(timer);
        attempt.removeAllListeners("error");
        attempt.on("data", onData);
        attempt.on("error", () => {}); // "close" follows and does the cleanup
        attempt.on("close", () => {
          if (socket === attempt) socket = null;
          fail(new RedisUnavailableError(`the connection to redis at ${host}:${port} closed`));
        });
        socket = attempt;
        resolve(attempt);
      });
    });
  }

  async function ready() {
    if (socket) return socket;
    connecting ??= open().finally(() => (connecting = null));
    const opened = await connecting;
    // The first caller through sends AUTH/SELECT before anything else on this socket.
    if (!opened.prepared) {
      opened.prepared = true;
      const setup = [];
      if (password) setup.push(["AUTH", password]);
      if (db) setup.push(["SELECT", String(db)]);
      if (setup.length > 0) {
        const replies = await write(opened, setup);
        const refused = replies.find((reply) => reply instanceof RespError);
        if (refused) throw new RedisUnavailableError(`redis refused the connection setup: ${refused.message}`);
      }
    }
    return opened;
  }

  function write(target, commands) {
    const replies = commands.map(() => {
      let entry;
      const promise = new Promise((resolve, reject) => (entry = { resolve, reject }));
      pending.push(entry);
      return promise;
    });
    target.write(Buffer.concat(commands.map(encodeCommand)));
    // A reply that never comes (a stopped process) would stall every later reply on this socket.
    const timer = setTimeout(() => target.destroy(), replyTimeoutMs);
    const all = Promise.all(replies);
    all.then(() => clearTimeout(timer), () => clearTimeout(timer));
    return all;
  }

  return {
    /** Sends `commands` (arrays of strings/Buffers) as one pipelined batch; resolves with their replies. */
    async send(commands) {
      return write(await ready(), commands);
    },
    /** Closes the connection; a later `send` reconnects. */
    close() {
      socket?.destroy();
      socket = null;
    },
  };
}
