// The chaos run's report: operations by kind and outcome, the watches, the faults injected, every
// unavailability window (from a fault to the next acknowledged write begun after it) with p50/p99,
// and an SVG timeline: acknowledged operations and unknown outcomes per second, faults as bands
// labelled with their names (the timeline widens with the run so the labels stay apart).
import type { Recorded, WatchLog } from "./history.ts";

export interface FaultEvent {
  kind: string;
  /** ms since the run began (the history's clock). */
  atMs: number;
  holdMs: number;
}

const isWrite = (op: Recorded) =>
  op.input.kind !== "get" && op.input.kind !== "readAll" && op.output?.kind !== "read";

/** A row of the report: the operation kind, and a get's consistency or a put's idempotency. */
function rowOf(op: Recorded): string {
  const i = op.input;
  if (i.kind === "get") return `get (${i.mode === "min" ? "min-revision" : i.mode})`;
  if (i.kind === "put") return i.idempotencyKey ? "put (idempotent)" : "put";
  return { cas: "cas", delete: "delete", transfer: "txn transfer", readAll: "txn snapshot" }[
    i.kind
  ];
}

function outcomeRows(ops: readonly Recorded[]): string[] {
  const rows = new Map<string, [number, number, number]>();
  for (const op of ops) {
    if (op.client < 0) continue; // the run's setup
    const row = rows.get(rowOf(op)) ?? [0, 0, 0];
    const isRead = op.input.kind === "get" || op.input.kind === "readAll";
    row[op.output === null ? 2 : op.output.kind === "read" && !isRead ? 1 : 0]++;
    rows.set(rowOf(op), row);
  }
  return [...rows]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, [ok, refused, unknown]]) => `| ${name} | ${ok} | ${refused} | ${unknown} |`);
}

/**
 * ms from each fault to the first acknowledged write that began after it (one already in flight
 * may have committed before the fault took hold, so it says nothing about the fault).
 */
export function unavailability(ops: readonly Recorded[], faults: readonly FaultEvent[]): number[] {
  const acked = ops.filter((op) => isWrite(op) && op.completeMs !== null);
  return faults.flatMap((f) => {
    const after = acked.filter((op) => op.invokeMs >= f.atMs).map((op) => op.completeMs!);
    return after.length === 0 ? [] : [Math.round(Math.min(...after) - f.atMs)];
  });
}

function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export function reportMarkdown(
  head: string[],
  ops: readonly Recorded[],
  watches: readonly WatchLog[],
  faults: readonly FaultEvent[],
): string {
  const sessions = watches.reduce((n, w) => n + w.sessions.length, 0);
  const events = watches.reduce(
    (n, w) => n + w.sessions.reduce((m, s) => m + s.events.length, 0),
    0,
  );
  const counts = new Map<string, number>();
  for (const f of faults) counts.set(f.kind, (counts.get(f.kind) ?? 0) + 1);
  const windows = unavailability(ops, faults);
  const p = (q: number) => percentile(windows, q) ?? "n/a";
  return [
    ...head,
    "",
    "| operation | acknowledged | refused (412, txn compare, 404) | unknown outcome |",
    "| --- | ---: | ---: | ---: |",
    ...outcomeRows(ops),
    "",
    `watches: ${watches.length}, ${sessions} connections (each resumed with Last-Event-ID), ` +
      `${events} events delivered`,
    "",
    `faults injected: ${faults.length} (` +
      ([...counts].map(([k, n]) => `${k} ${n}`).join(", ") || "none") +
      ")",
    `unavailability (fault to the next acknowledged write begun after it): p50 ${p(50)} ms, ` +
      `p99 ${p(99)} ms, ` +
      `max ${windows.length === 0 ? "n/a" : Math.max(...windows)} ms`,
    "",
    "![timeline](timeline.svg)",
    "",
  ].join("\n");
}

/** Faults come every few seconds: 8 px a second keeps their labels (10 px tall) apart. */
const pxPerSecondMin = 8;

export function timelineSvg(ops: readonly Recorded[], faults: readonly FaultEvent[]): string {
  const endMs = Math.max(1, ...ops.map((op) => op.completeMs ?? op.invokeMs));
  const seconds = Math.ceil(endMs / 1000);
  const ok = new Array<number>(seconds).fill(0);
  const unknown = new Array<number>(seconds).fill(0);
  for (const op of ops) {
    if (op.completeMs === null) unknown[Math.min(seconds - 1, Math.floor(op.invokeMs / 1000))]!++;
    else ok[Math.min(seconds - 1, Math.floor(op.completeMs / 1000))]!++;
  }
  const width = Math.max(900, 60 + seconds * pxPerSecondMin);
  const height = 280;
  const x = (ms: number) => 40 + (ms / (seconds * 1000)) * (width - 60);
  const top = Math.max(1, ...ok);
  const y = (n: number) => height - 30 - (n / top) * (height - 60);
  const bands = faults.map(
    (f) =>
      `<rect x="${x(f.atMs).toFixed(1)}" y="20" width="${Math.max(2, x(f.atMs + f.holdMs) - x(f.atMs)).toFixed(1)}" height="${height - 50}" fill="#f5b041" opacity="0.3"><title>${f.kind}</title></rect>`,
  );
  // Each band's name, written down its left edge, over the bars (drawn after them).
  const labels = faults.map(
    (f) =>
      `<text transform="translate(${(x(f.atMs) + 2).toFixed(1)} 24) rotate(90)" font-size="10" fill="#6e2c00">${f.kind}</text>`,
  );
  const bar = (values: number[], color: string) =>
    values.map(
      (n, s) =>
        `<rect x="${x(s * 1000).toFixed(1)}" y="${y(n).toFixed(1)}" width="${Math.max(1, x(1000) - x(0) - 1).toFixed(1)}" height="${(height - 30 - y(n)).toFixed(1)}" fill="${color}"/>`,
    );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    ...bands,
    ...bar(ok, "#2e86c1"),
    ...bar(unknown, "#c0392b"),
    ...labels,
    `<text x="40" y="14">acknowledged operations per second (blue, max ${top}), unknown outcomes (red), faults (bands, named)</text>`,
    `<text x="40" y="${height - 10}">0 s</text><text x="${width - 40}" y="${height - 10}">${seconds} s</text>`,
    "</svg>",
  ].join("\n");
}
