import { env } from "cloudflare:test";
import { BLOBS, DOUBLES } from "../../src/metrics/layout";

/** A data point as the tests read it: its blobs and doubles by column name. */
export interface Point {
  index: string;
  event: string;
  route: string;
  store: string;
  status: string;
  reason: string;
  colo: string;
  gate_ms: number;
  origin_ms: number;
  count: number;
}

/**
 * An AnalyticsEngineDataset that records what is written, and passes it on to
 * the real binding miniflare gives the tests (wrangler.toml GATE_METRICS):
 * the real one accepts the points but cannot be read back.
 */
export function createRecordingDataset() {
  const written: AnalyticsEngineDataPoint[] = [];
  const dataset: AnalyticsEngineDataset = {
    writeDataPoint(point) {
      if (point) written.push(structuredClone(point));
      env.GATE_METRICS.writeDataPoint(point);
    },
  };
  /** Every point written so far, by column name. */
  const points = (): Point[] => written.map(read);
  return { dataset, written, points, events: (event: string) => points().filter((point) => point.event === event) };
}

function read(point: AnalyticsEngineDataPoint): Point {
  const named: Record<string, unknown> = { index: point.indexes?.[0] };
  for (const [i, name] of BLOBS.entries()) named[name] = point.blobs?.[i];
  for (const [i, name] of DOUBLES.entries()) named[name] = point.doubles?.[i];
  return named as unknown as Point;
}

/** A timer that advances by `step` ms on every reading: gate and origin time become predictable. */
export function steppingTimer(step = 5) {
  let time = 0;
  return () => (time += step);
}
