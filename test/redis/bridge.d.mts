import type { RedisServerHandle } from "./redis-server.mjs";

export type BridgeMode = "normal" | "http500" | "garbage" | "hang";
export const BRIDGE_MODES: readonly BridgeMode[];

export interface BridgeStats {
  requests: number;
  commands: number;
}

export interface StartBridgeOptions {
  /** The server /__control/redis/stop|start acts on; also the default Redis address. */
  redisServer?: RedisServerHandle;
  redisPort?: number;
  redisHost?: string;
  redisPassword?: string;
  redisDb?: number;
  /** The Bearer token clients must send; random when omitted. */
  token?: string;
  /** Port to listen on (127.0.0.1); 0 = a free one. */
  port?: number;
  hangTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Sees every authorised REST request (path "/", "/pipeline" or "/multi-exec") before it runs. */
  onRequest?: (request: { path: string; body: unknown; base64: boolean; scope: string | undefined }) => void;
}

export interface Bridge {
  url: string;
  port: number;
  token: string;
  /** Counts for everyone, or for the clients whose token is `${token}.${scope}`. */
  stats(scope?: string): BridgeStats;
  /** Zeroes one scope's counters, or (no scope) every counter. */
  resetStats(scope?: string): void;
  /** Sets the fault mode for everyone or for one scope. */
  setMode(mode: BridgeMode, scope?: string): void;
  close(): Promise<void>;
}

/** The token a client uses to be counted and faulted under `scope`: `${token}.${scope}`. */
export function scopedToken(token: string, scope: string): string;

export function startBridge(options?: StartBridgeOptions): Promise<Bridge>;
