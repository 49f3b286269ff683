/** Traffic on a socket since the last recheck that answered: the caller's evidence of use for the idle timeout. */
export interface WebSocketActivity {
  /** Messages relayed, both directions, since the last recheck that answered (carried over when one throws). */
  messages: number;
  /** When the last message was relayed (the `now()` clock, ms); the socket's opening when none yet. */
  since: number;
}

/** When and how a proxied connection's session is checked. */
export interface SessionWatchOptions {
  /** The clock (ms); the timers themselves run on the runtime's. */
  now(): number;
  /** Milliseconds between rechecks. */
  recheckEvery: number;
  /** The session's absolute end (ms, `now()` clock); `Infinity` for none. */
  endsAt: number;
  /** Resolves false once the session has ended; a rejection keeps the socket (retried next tick). */
  recheck?(activity: WebSocketActivity): Promise<boolean>;
  /** After this many rechecks the connection ends for a reconnect (`recheck_budget`); default: never. */
  maxRechecks?: number;
}

/** Why the watch ended a connection. */
export type SessionEnd = "session_ended" | "absolute_timeout" | "recheck_budget";

/** setTimeout's largest delay (2^31 − 1 ms, about 24.8 days); a longer one would fire at once. */
export const MAX_TIMER_DELAY = 2_147_483_647;

/**
 * Starts the timers that end a connection for its session, and returns the
 * function that clears them. `endsAt` gets a timer of its own, set for exactly
 * that moment, so an absolute timeout is never late by up to a recheck interval;
 * `recheck` runs every `recheckEvery`, one at a time. `end` is called at most
 * once, and never after `stop()`. These timers are what keeps a revoked
 * session's socket from living on: workerd runs them for as long as the socket
 * is open, and they are cleared as soon as either side ends.
 */
export function watchSession(options: SessionWatchOptions, traffic: WebSocketActivity, end: (why: SessionEnd) => void): () => void {
  const { now, endsAt, recheck } = options;
  let stopped = false;
  let deadline: ReturnType<typeof setTimeout> | undefined;
  let interval: ReturnType<typeof setInterval> | undefined;
  let checking = false;
  let rechecks = 0;
  const stop = () => {
    stopped = true;
    if (deadline !== undefined) clearTimeout(deadline);
    if (interval !== undefined) clearInterval(interval);
  };
  const finish = (why: SessionEnd) => {
    if (stopped) return;
    stop();
    end(why);
  };
  const armDeadline = () => {
    const left = Math.min(Math.max(endsAt - now(), 0), MAX_TIMER_DELAY);
    // Re-read the clock when it fires: a delay capped at MAX_TIMER_DELAY is only a step towards endsAt.
    deadline = setTimeout(() => (now() >= endsAt ? finish("absolute_timeout") : armDeadline()), left);
  };
  /** The recheck's answer, or "failed" when it threw or rejected (a store outage, say). */
  const ask = async (seen: WebSocketActivity): Promise<boolean | "failed"> => {
    try {
      return (await recheck?.(seen)) !== false;
    } catch {
      return "failed";
    }
  };
  const tick = async () => {
    if (stopped || checking) return;
    if (now() >= endsAt) return finish("absolute_timeout");
    if (rechecks >= (options.maxRechecks ?? Number.POSITIVE_INFINITY)) return finish("recheck_budget");
    rechecks++;
    checking = true;
    const seen = { messages: traffic.messages, since: traffic.since };
    const answer = await ask(seen);
    checking = false;
    // A dependency failure logs out nobody: keep the socket, and let the counts carry over to the next tick.
    if (answer === "failed") return;
    traffic.messages -= seen.messages;
    if (!answer) finish("session_ended");
  };
  if (Number.isFinite(endsAt)) armDeadline();
  if (recheck) interval = setInterval(() => void tick(), options.recheckEvery);
  return stop;
}
