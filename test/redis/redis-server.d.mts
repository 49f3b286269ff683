/** A redis-server for tests: ours (stop/start work) or the one REDIS_URL names (they throw). */
export interface RedisServerHandle {
  host: string;
  port: number;
  password?: string;
  db?: number;
  url: string;
  /** True when REDIS_URL named the server: stop() and start() refuse. */
  external: boolean;
  /** Kills the process (SIGKILL); the data is gone. */
  stop(): Promise<void>;
  /** Starts it again, empty, on the same port. */
  start(): Promise<void>;
  /** Stops it for good and removes its directory. */
  close(): Promise<void>;
}

export interface StartRedisServerOptions {
  port?: number;
  redisUrl?: string;
  binary?: string;
}

export function freePort(): Promise<number>;
export function startRedisServer(options?: StartRedisServerOptions): Promise<RedisServerHandle>;
