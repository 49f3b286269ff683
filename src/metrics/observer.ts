import type { Context, MiddlewareHandler } from "hono";
import { toGateError } from "../errors";
import { type GateEnv, waitUntil } from "../http/context";
import type { LogEvent, Logger } from "../log";
import { coloOf, routeOf, withRequest } from "./context";
import { METRIC_EVENTS } from "./events";
import { type Sample, code, dataPoint, ms, statusClass } from "./layout";

/** Options of {@link createObserver}. */
export interface ObserverOptions {
  /** Where log lines go. */
  log: Logger;
  /** GATE_METRICS: without it no data point is built, let alone written. */
  dataset?: AnalyticsEngineDataset;
  /** The session store backend (`kv`, `redis`, `durable`), for the `store` blob. */
  store: string;
  /** A monotonic clock in ms for gate and origin time; default `performance.now()` (tests pass their own). */
  timer?: () => number;
}

/** The request context of log lines, and the metrics: one per gate. */
export interface Observer {
  /** The gate's logger: a line that names a request in flight gets its route and sid, and becomes a data point with GATE_METRICS. */
  log: Logger;
  /** The middleware that makes a request known to `log`, and writes its data points once its response is final. */
  observe: MiddlewareHandler<GateEnv>;
  /** Whether data points are written (GATE_METRICS is bound). */
  metrics: boolean;
}

/** Analytics Engine takes 250 data points per invocation; a request writes its outcome and at most this many events. */
const MAX_EVENTS_PER_REQUEST = 64;

/** A request in flight: its context, and (with GATE_METRICS) the events it logged, written after its response. */
interface InFlight {
  c: Context<GateEnv>;
  events: Pick<Sample, "event" | "reason" | "store" | "count">[];
}

/**
 * The seam between the log and the metrics (docs/observability.md). Lines
 * already name their request by `request_id` (all lines logged where a
 * request is at hand do); the observer keeps the requests in flight by that
 * id, so the one logger adds the route and sid to every such line, and no
 * call site has to thread them. With GATE_METRICS, each line is also a data
 * point (src/metrics/events.ts): a request's are kept with it and written,
 * with its outcome, once its response is final, through waitUntil; one outside
 * a request (the cron, the session manager, which does not see the request) at
 * once. Writes are fire-and-forget calls of the binding: no store round trip,
 * no await, no timer.
 */
export function createObserver(options: ObserverOptions): Observer {
  const { dataset, store } = options;
  const timer = options.timer ?? (() => performance.now());
  const inFlight = new Map<string, InFlight>();

  function write(sample: Sample): void {
    try {
      dataset?.writeDataPoint(dataPoint(sample));
    } catch {
      // Metrics never fail a request: a write the runtime refuses (over its per-invocation limit) is lost.
    }
  }

  function record(event: LogEvent, fields: Record<string, unknown>, request: InFlight | undefined): void {
    const reading = METRIC_EVENTS[event];
    const backend = typeof fields.backend === "string" ? fields.backend : store;
    const sample = { event, reason: code(reading.reason?.(fields)), store: backend, count: reading.count?.(fields) ?? 1 };
    if (request) {
      if (request.events.length < MAX_EVENTS_PER_REQUEST) request.events.push(sample);
      return;
    }
    const route = typeof fields.route === "string" ? fields.route : "";
    write({ ...sample, route, status: "", colo: "", gateMs: 0, originMs: 0 });
  }

  const log: Logger = (event, fields = {}) => {
    const request = typeof fields.request_id === "string" ? inFlight.get(fields.request_id) : undefined;
    options.log(event, request ? withRequest(fields, request.c) : fields);
    if (dataset) record(event, fields, request);
  };

  /** The outcome of a request, then the events it logged, all with its route, status class and colo. */
  function flush({ c, events }: InFlight, elapsed: number): void {
    const originMs = c.get("originTime") ?? 0;
    const context = { route: routeOf(c), status: statusClass(c.res.status), colo: coloOf(c) };
    write({ event: "request", ...context, store, reason: refusalOf(c), gateMs: ms(elapsed - originMs), originMs: ms(originMs), count: 1 });
    for (const event of events) write({ ...event, ...context, gateMs: 0, originMs: 0 });
  }

  const observe: MiddlewareHandler<GateEnv> = async function observe(c, next) {
    const id = c.get("requestId");
    const request: InFlight = { c, events: [] };
    const start = dataset ? timer() : 0;
    inFlight.set(id, request);
    try {
      await next();
    } finally {
      inFlight.delete(id);
    }
    if (!dataset) return;
    const elapsed = timer() - start;
    // Once the response is final, as a microtask handed to waitUntil: not a timer, which costs a request
    // more CPU than its points (docs/observability.md, "What metrics cost").
    const written = Promise.resolve().then(() => flush(request, elapsed));
    waitUntil(c, written);
  };

  return { log, observe, metrics: dataset !== undefined };
}

/**
 * Why the gate refused the request, as its answer said (`unauthenticated`,
 * `csrf`, `rate_limited`, `unavailable`…: contract §5); `""` when it did not
 * refuse it (whatever the origin answered). The finer reason is the event's.
 */
function refusalOf(c: Context<GateEnv>): string {
  if (!c.error) return "";
  return toGateError(c.error)?.code ?? "refused";
}
