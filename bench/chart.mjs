// The benchmark's chart, as a self-contained SVG: per arm, throughput relative
// to the pass-through Worker (16 connections) and latency added over it (p50,
// 1 connection), with the targets drawn in.

const COLORS = { reference: "#8a94a6", gate: "#2f5fd0", peer: "#d0742f" };
const escapeXml = (text) => String(text).replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** A rounded-up axis maximum: 1, 2 or 5 times a power of ten. */
function niceMax(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((m) => m * power).find((v) => v >= value);
}

function panel({ x, y, width, rows, rowHeight, title, value, label, min, max, marks }) {
  const scale = (v) => x + ((v - min) / (max - min)) * width;
  const zero = scale(Math.max(min, 0));
  const parts = [`<text x="${x}" y="${y - 30}" class="title">${escapeXml(title)}</text>`];
  const bottom = y + rows.length * rowHeight;
  parts.push(`<line x1="${zero}" y1="${y - 6}" x2="${zero}" y2="${bottom}" class="axis"/>`);
  for (const mark of marks) {
    const mx = scale(mark.at);
    parts.push(`<line x1="${mx}" y1="${y - 12}" x2="${mx}" y2="${bottom + 4}" class="${mark.kind}"/>`);
    // Targets are labelled above the panel, references below it, so the two never collide.
    const above = mark.kind === "target";
    parts.push(
      `<text x="${mx}" y="${above ? y - 14 : bottom + 16}" class="${above ? "mark" : "note"}" text-anchor="middle">${escapeXml(mark.text)}</text>`,
    );
  }
  rows.forEach((row, i) => {
    const v = value(row);
    const top = y + i * rowHeight + 4;
    if (!Number.isFinite(v)) {
      parts.push(`<text x="${zero + 4}" y="${top + rowHeight / 2}" class="value">n/a</text>`);
      return;
    }
    const end = scale(Math.max(min, Math.min(max, v)));
    const left = Math.min(zero, end);
    const barWidth = Math.max(1, Math.abs(end - zero));
    parts.push(`<rect x="${left}" y="${top}" width="${barWidth}" height="${rowHeight - 10}" rx="2" fill="${COLORS[row.arm.kind]}"/>`);
    // A bar past the axis's end is cut there and marked with a break.
    if (v > max)
      parts.push(
        `<path d="M${end - 9} ${top - 1} l5 ${rowHeight - 8} M${end - 4} ${top - 1} l5 ${rowHeight - 8}" stroke="#ffffff" stroke-width="2.5"/>`,
      );
    const textX = v >= 0 ? Math.max(end, zero) + 5 : zero + 5;
    parts.push(`<text x="${textX}" y="${top + rowHeight / 2 - 1}" class="value">${escapeXml(label(row))}</text>`);
  });
  return parts.join("\n  ");
}

/** The SVG for a summary (rows from scripts/bench.mjs). */
export function renderChart(rows, context) {
  const rowHeight = 30;
  const labelWidth = 250;
  const panelWidth = 290;
  const top = 92;
  const width = labelWidth + 2 * panelWidth + 200;
  const height = top + rows.length * rowHeight + 64;
  // The origin alone can be several times faster than any Worker: its bar is cut, not the scale stretched.
  const ratioMax =
    Math.max(
      1.2,
      ...rows
        .filter((r) => r.arm.id !== "origin")
        .map((r) => r.ratio)
        .filter(Number.isFinite),
    ) * 1.05;
  const added = rows.map((r) => r.added_p50).filter(Number.isFinite);
  const addedMax = niceMax(Math.max(250, ...added) * 1.05);
  const addedMin = Math.min(0, ...added) * 1.1;
  const quick = context.options.quick ? " (quick run)" : "";
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="13">`,
    `<style>
    .title { font-weight: 600; font-size: 13px; fill: #1d2330; }
    .heading { font-weight: 700; font-size: 16px; fill: #1d2330; }
    .label { fill: #1d2330; } .value { fill: #1d2330; font-size: 12px; paint-order: stroke; stroke: #ffffff; stroke-width: 3px; } .note { fill: #5b6475; font-size: 11px; }
    .mark { fill: #b3541e; font-size: 11px; } .axis { stroke: #1d2330; stroke-width: 1; }
    .target { stroke: #b3541e; stroke-width: 1.5; stroke-dasharray: 5 4; } .ref { stroke: #8a94a6; stroke-width: 1; stroke-dasharray: 2 3; }
  </style>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="16" y="26" class="heading">Gatehouse: cost of the gate${escapeXml(quick)}</text>`,
    `<text x="16" y="44" class="note">${escapeXml(`median of ${context.options.rounds} round(s); workerd on CPU ${context.cpus.server}, origin and wrk on CPU ${context.cpus.load}; ${context.machine.model}, ${context.machine.nproc} CPUs`)}</text>`,
  ];
  rows.forEach((row, i) => {
    parts.push(`<text x="16" y="${top + i * rowHeight + rowHeight / 2 + 3}" class="label">${escapeXml(row.arm.short)}</text>`);
  });
  parts.push(
    panel({
      x: labelWidth,
      y: top,
      width: panelWidth,
      rows,
      rowHeight,
      title: "Throughput vs pass-through, 16 connections",
      value: (r) => r.ratio,
      label: (r) => `${r.ratio.toFixed(2)}× · ${Math.round(r.rps).toLocaleString("en")}/s`,
      min: 0,
      max: ratioMax,
      marks: [
        { at: 0.45, text: "target 0.45×", kind: "target" },
        { at: 1, text: "pass-through", kind: "ref" },
      ],
    }),
  );
  parts.push(
    panel({
      x: labelWidth + panelWidth + 150,
      y: top,
      width: panelWidth - 70,
      rows,
      rowHeight,
      title: "Added latency, p50, 1 connection (µs)",
      value: (r) => r.added_p50,
      label: (r) => `${r.added_p50 > 0 ? "+" : ""}${Math.round(r.added_p50)} µs`,
      min: addedMin,
      max: addedMax,
      marks: [{ at: 200, text: "target +200 µs", kind: "target" }],
    }),
  );
  parts.push(
    `<text x="16" y="${height - 18}" class="note">${escapeXml("grey: references · blue: the gate · orange: a Node reverse proxy with express-session on the same Redis. Targets (issue 17) apply to the KV session arm; the login arm is against the pass-through on /login.")}</text>`,
  );
  parts.push("</svg>\n");
  return parts.join("\n");
}
