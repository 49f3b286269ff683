// docs/observability.md and examples/grafana/gatehouse-dashboard.json ask the same questions, of
// columns and events that exist: a renamed event or a moved column fails here, not on a dashboard.
import { describe, expect, it } from "vitest";
import dashboard from "../../examples/grafana/gatehouse-dashboard.json";
import doc from "../../docs/observability.md?raw";
import { METRIC_EVENTS } from "../../src/metrics/events";
import { BLOBS, DOUBLES } from "../../src/metrics/layout";

const squash = (sql: string) => sql.replace(/\s+/g, " ").trim();
/** The data source as an import input: Grafana asks for it and puts its uid here. */
const DATASOURCE = { type: "vertamedia-clickhouse-datasource", uid: ["$", "{DS_GATEHOUSE}"].join("") };
const docQueries = [...doc.matchAll(/```sql\n([\s\S]*?)```/g)].map((match) => squash(match[1]));
const panels = dashboard.panels.map((panel) => ({ title: panel.title, query: panel.targets[0].query }));
const allQueries = [...docQueries, ...panels.map((panel) => panel.query)];

/** A dashboard query as the SQL API would take it: the plugin's macros as the documented minute buckets and range. */
function asDocumented(query: string): string[] {
  const base = query.replaceAll("$timeSeries", "intDiv(toUInt32(timestamp), 60) * 60").replaceAll("FROM $dataset", "FROM gatehouse");
  return [
    squash(base.replaceAll("$timeFilter", "timestamp > NOW() - INTERVAL '1' HOUR")),
    squash(base.replaceAll("$timeFilter", "timestamp >= toStartOfDay(NOW()) - INTERVAL '1' DAY AND timestamp < toStartOfDay(NOW())")),
  ];
}

describe("the Grafana dashboard", () => {
  it("has one panel per documented query, with the same SQL", () => {
    expect(panels).toHaveLength(docQueries.length);
    for (const panel of panels)
      expect(
        asDocumented(panel.query).some((query) => docQueries.includes(query)),
        panel.title,
      ).toBe(true);
  });

  it("is importable: its data source is an input of the Altinity ClickHouse plugin, its dataset a variable", () => {
    expect(dashboard.__inputs).toEqual([
      expect.objectContaining({ name: "DS_GATEHOUSE", type: "datasource", pluginId: "vertamedia-clickhouse-datasource" }),
    ]);
    for (const panel of dashboard.panels) {
      expect(panel.datasource).toEqual(DATASOURCE);
      expect(panel.targets[0]).toMatchObject({ dateTimeColDataType: "timestamp", query: expect.stringContaining("FROM $dataset") });
    }
    expect(dashboard.templating.list).toEqual([expect.objectContaining({ name: "dataset", query: "gatehouse" })]);
  });
});

describe("every query, documented or on the dashboard", () => {
  it("filters on an event the gate writes, and reads only columns the layout has", () => {
    const events = new Set(["request", ...Object.keys(METRIC_EVENTS)]);
    for (const query of allQueries) {
      const filtered = [...query.matchAll(/index1 = '([^']+)'/g)].map((match) => match[1]);
      expect(filtered.length, query).toBeGreaterThan(0);
      for (const event of filtered) expect(events, query).toContain(event);
      for (const [, kind, n] of query.matchAll(/\b(blob|double)(\d+)\b/g)) {
        expect(Number(n), query).toBeLessThanOrEqual(kind === "blob" ? BLOBS.length : DOUBLES.length);
      }
    }
  });

  it("counts with _sample_interval, never count(): Analytics Engine samples", () => {
    for (const query of allQueries) {
      expect(query, query).toMatch(/_sample_interval/);
      expect(query, query).not.toMatch(/\bcount\(/i);
    }
  });
});
