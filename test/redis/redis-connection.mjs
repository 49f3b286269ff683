// The bridge's connection to Redis: one node-redis client (the `redis`
// package) speaking RESP2, every command pipelined on one socket, bulk strings
// as Buffers. Error replies are values (ErrorReply), not rejections; a
// rejection always means Redis could not be reached (RedisUnavailableError).
// Nothing is queued while Redis is down: a request waits for one connection
// attempt at most, and the client reconnects on its own when Redis is back.
import { ErrorReply, RESP_TYPES, createClient } from "redis";

/** The pause between connection attempts while Redis is down. */
const RECONNECT_DELAY_MS = 50;
/** A reply that takes longer than this drops the connection (a stopped process would stall every later reply). */
const REPLY_TIMEOUT_MS = 5_000;

/** Redis could not be reached, or the connection broke before the reply arrived. */
export class RedisUnavailableError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = "RedisUnavailableError";
  }
}

/** True for an error reply from Redis (`-ERR ...`): a result, not a failure of the connection. */
export const isErrorReply = (reply) => reply instanceof ErrorReply;

/**
 * Connects to one Redis server (in the background; reconnecting on its own)
 * and returns `{ send(commands), close() }`. `send` writes a batch of
 * commands (arrays of strings/Buffers) back to back on the one connection, so
 * MULTI ... EXEC cannot interleave with another batch, and resolves with one
 * reply per command: simple strings as strings, bulk strings as Buffers,
 * integers as numbers, nil as null, error replies as ErrorReply values.
 */
export function connectRedis({ host = "127.0.0.1", port, password, db, connectTimeoutMs = 200, replyTimeoutMs = REPLY_TIMEOUT_MS }) {
  const address = `${host}:${port}`;
  let client = open();

  function open() {
    const opened = createClient({
      RESP: 2,
      socket: { host, port, connectTimeout: connectTimeoutMs, reconnectStrategy: () => RECONNECT_DELAY_MS },
      password,
      database: db,
      // Fail at once instead of queueing commands while the connection is down.
      disableOfflineQueue: true,
      // No CLIENT SETINFO on connect: the bench counts Redis's commands.
      disableClientInfo: true,
      commandOptions: { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } },
    });
    const connection = { redis: opened, firstAttempt: true };
    const attempted = () => (connection.firstAttempt = false);
    // Every failed attempt and every dropped connection is an "error" event; requests learn of them through nextAttempt().
    opened.on("error", attempted).on("ready", attempted);
    opened.connect().catch(() => {}); // settles when ready, or rejects when closed first
    return connection;
  }

  function unavailable(cause) {
    if (cause instanceof RedisUnavailableError) return cause;
    const reason = cause instanceof ErrorReply ? `it refused the connection setup: ${cause.message}` : (cause?.code ?? cause?.message);
    return new RedisUnavailableError(`redis at ${address} is unreachable: ${reason}`, { cause });
  }

  /** Resolves when `redis` is ready; rejects when a connection attempt that started after the call fails. */
  function nextAttempt({ redis, firstAttempt }) {
    const limitMs = RECONNECT_DELAY_MS + connectTimeoutMs;
    return new Promise((resolve, reject) => {
      let started = firstAttempt;
      const onReconnecting = () => (started = true);
      const onError = (error) => started && settle(unavailable(error));
      const onEnd = () => settle(new RedisUnavailableError(`the connection to redis at ${address} was closed`));
      const timer = setTimeout(
        () => settle(new RedisUnavailableError(`redis at ${address} did not accept a connection within ${limitMs} ms`)),
        limitMs,
      );
      function settle(error) {
        clearTimeout(timer);
        redis.off("ready", settle).off("reconnecting", onReconnecting).off("error", onError).off("end", onEnd);
        if (error) reject(error);
        else resolve();
      }
      redis.on("ready", settle).on("reconnecting", onReconnecting).on("error", onError).on("end", onEnd);
    });
  }

  return {
    /** Sends `commands` as one pipelined batch; resolves with their replies, rejects with RedisUnavailableError. */
    async send(commands) {
      const current = client;
      const { redis } = current;
      if (redis.isOpen && !redis.isReady) await nextAttempt(current);
      const replies = Promise.allSettled(commands.map((args) => redis.sendCommand(args)));
      const timer = setTimeout(() => {
        if (client === current) client = open();
        redis.destroy();
      }, replyTimeoutMs);
      const settled = await replies;
      clearTimeout(timer);
      return settled.map(({ status, value, reason }) => {
        if (status === "fulfilled") return value;
        if (reason instanceof ErrorReply) return reason;
        throw unavailable(reason);
      });
    },
    /** Closes the connection and stops reconnecting; pending commands fail with RedisUnavailableError. */
    close() {
      client.redis.destroy();
    },
  };
}
