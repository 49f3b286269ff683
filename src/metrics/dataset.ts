/** What `GATE_METRICS` holds: the dataset, nothing (metrics off), or a problem with what is bound instead. */
export type MetricsBinding = { dataset?: AnalyticsEngineDataset; problem?: undefined } | { dataset?: undefined; problem: string };

/**
 * Reads `GATE_METRICS` (wrangler.toml `[[analytics_engine_datasets]]`). Unset,
 * metrics are off and cost nothing. Set to anything but a dataset (a `[vars]`
 * value, another kind of binding) it is a configuration problem, as any other:
 * a gate the operator believes is counting must not silently count nothing.
 */
export function readMetricsBinding(value: unknown): MetricsBinding {
  if (value === undefined) return {};
  const dataset = value as Partial<AnalyticsEngineDataset> | null;
  if (typeof dataset === "object" && dataset !== null && typeof dataset.writeDataPoint === "function")
    return { dataset: dataset as AnalyticsEngineDataset };
  const kind = typeof value === "string" ? "a text variable ([vars] or a secret)" : "another kind of binding";
  return {
    problem: `GATE_METRICS: expected an Analytics Engine dataset binding ([[analytics_engine_datasets]] binding = "GATE_METRICS"), got ${kind}`,
  };
}
