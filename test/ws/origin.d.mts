/** The WebSocket test origin (origin.mjs). */
export interface WsOrigin {
  /** `http://127.0.0.1:<port>`; fetch it with `Upgrade: websocket` to open a socket. */
  url: string;
  /** Ends every connection and stops listening. */
  close(): Promise<void>;
}

export interface StartWsOriginOptions {
  /** Port to listen on (127.0.0.1); 0 = a free one. */
  port?: number;
}

export function startWsOrigin(options?: StartWsOriginOptions): Promise<WsOrigin>;
