// A small SVG chart of one run: grouped bars per scenario (one bar per target) for throughput and
// p99 at the highest concurrency. Hand-written SVG, no dependencies.
import type { CellResult } from "./cell.ts";
import { scenarioInfo } from "./scenarios.ts";
import type { TargetId } from "./summary.ts";
import type { ScenarioName } from "./types.ts";

const colors: Record<TargetId, string> = {
  edgecfg: "#f38020",
  solo: "#5b8def",
  etcd: "#419eb8",
  bare: "#9aa0a6",
};
const panel = { width: 860, height: 260, left: 70, top: 40, bottom: 50 };
const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");

interface Series {
  target: TargetId;
  label: string;
}

/** A "nice" axis maximum: 1, 2 or 5 × a power of ten, at or above `max`. */
function niceMax(max: number): number {
  if (max <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 5, 10].map((m) => m * power).find((v) => v >= max)!;
}

function bars(
  cells: CellResult[],
  scenarios: ScenarioName[],
  series: Series[],
  value: (c: CellResult) => number,
  conc: number,
  y0: number,
): string[] {
  const plotW = panel.width - panel.left - 20;
  const plotH = panel.height - panel.top - panel.bottom;
  const groupW = plotW / scenarios.length;
  const barW = (groupW * 0.8) / series.length;
  const find = (t: TargetId, s: ScenarioName) =>
    cells.find(
      (c) => c.target === t && c.scenario === s && c.concurrency === conc && c.opsPerSec > 0,
    );
  const max = niceMax(
    Math.max(
      0,
      ...scenarios.flatMap((s) =>
        series.map((t) => {
          const c = find(t.target, s);
          return c ? value(c) : 0;
        }),
      ),
    ),
  );
  const out: string[] = [];
  for (let tick = 0; tick <= 4; tick++) {
    const y = y0 + panel.top + plotH - (tick / 4) * plotH;
    out.push(
      `<line x1="${panel.left}" x2="${panel.width - 20}" y1="${y}" y2="${y}" stroke="#ddd"/>`,
    );
    out.push(
      `<text x="${panel.left - 6}" y="${y + 4}" text-anchor="end">${+((max * tick) / 4).toPrecision(3)}</text>`,
    );
  }
  scenarios.forEach((s, i) => {
    const gx = panel.left + i * groupW + groupW * 0.1;
    out.push(
      `<text x="${gx + groupW * 0.4}" y="${y0 + panel.height - panel.bottom + 18}" text-anchor="middle">${s}</text>`,
    );
    series.forEach((t, j) => {
      const c = find(t.target, s);
      if (c === undefined) return;
      const h = (value(c) / max) * plotH;
      out.push(
        `<rect x="${gx + j * barW}" y="${y0 + panel.top + plotH - h}" width="${barW - 2}" height="${h}" fill="${colors[t.target]}"><title>${esc(t.label)} ${s}@${conc}: ${value(c).toFixed(1)}</title></rect>`,
      );
    });
  });
  return out;
}

function legend(series: Series[], y: number): string[] {
  return series.flatMap((t, i) => [
    `<rect x="${panel.left + i * 220}" y="${y}" width="12" height="12" fill="${colors[t.target]}"/>`,
    `<text x="${panel.left + i * 220 + 18}" y="${y + 11}">${esc(t.label)}</text>`,
  ]);
}

export function renderChart(
  cells: CellResult[],
  labels: Record<TargetId, string>,
  title: string,
): string {
  const conc = Math.max(0, ...cells.map((c) => c.concurrency));
  const scenarios = (Object.keys(scenarioInfo) as ScenarioName[]).filter((s) =>
    cells.some((c) => c.scenario === s),
  );
  const series = (Object.keys(colors) as TargetId[])
    .filter((t) => cells.some((c) => c.target === t))
    .map((t) => ({ target: t, label: labels[t] }));
  const height = panel.height * 2 + 40;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${panel.width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${panel.left}" y="20" font-size="15" font-weight="bold">${esc(title)}</text>`,
    ...legend(series, 28),
    `<text x="${panel.left}" y="${panel.top + 20}" font-weight="bold">ops/s at concurrency ${conc} (higher is better)</text>`,
    ...bars(cells, scenarios, series, (c) => c.opsPerSec, conc, 10),
    `<text x="${panel.left}" y="${panel.height + panel.top + 20}" font-weight="bold">p99 ms at concurrency ${conc} (lower is better)</text>`,
    ...bars(cells, scenarios, series, (c) => c.p99Ms, conc, panel.height + 10),
    "</svg>",
    "",
  ].join("\n");
}
