// `edgecfg cluster status`: one table row per replica (shard, replica, location, role, voter or
// learner, lag, last contact), then what is pending; --json prints the whole document.
import type { CommandContext } from "../command.ts";
import { println, printJson } from "../io.ts";

interface Replica {
  id?: string;
  location?: string;
  role?: string;
  voter?: boolean;
  lag?: number | null;
  lastContact?: string | null;
  operation?: string | null;
}

interface Doc {
  backend?: string;
  ring?: { shards?: number; epoch?: number };
  shards?: { shard?: number; revision?: number | null; replicas?: Replica[]; error?: string }[];
  operations?: { id: string; kind: string; shard: number; step: string }[];
  pendingConfig?:
    | { variable: string; stored: unknown; configured: unknown; apply: string }[]
    | null;
}

const columns = ["SHARD", "REPLICA", "LOCATION", "ROLE", "VOTER", "LAG", "LAST CONTACT"];

export function printStatus(ctx: CommandContext, raw: unknown): void {
  const doc = raw as Doc;
  if (ctx.global.json || !Array.isArray(doc.shards)) return printJson(ctx.io.stdout, raw);
  const out = ctx.io.stdout;
  const epoch = doc.ring?.epoch === undefined ? "" : `, directory epoch ${doc.ring.epoch}`;
  println(out, `backend ${doc.backend ?? "?"}, ${doc.shards.length} shards${epoch}`);
  const rows = doc.shards.flatMap((s) =>
    (s.replicas ?? []).map((r) => [
      String(s.shard ?? "?"),
      r.id ?? "?",
      r.location || "-",
      r.role ?? "?",
      r.voter === false ? "learner" : "voter",
      r.lag === null || r.lag === undefined ? "-" : String(r.lag),
      ago(r.lastContact ?? null),
    ]),
  );
  for (const line of table([columns, ...rows])) println(out, line);
  for (const s of doc.shards) if (s.error) println(out, `shard ${s.shard}: ${s.error}`);
  for (const op of doc.operations ?? [])
    println(out, `running: operation ${op.id} (${op.kind}, shard ${op.shard}, ${op.step})`);
  for (const p of doc.pendingConfig ?? [])
    println(
      out,
      `pending: ${p.variable} ${String(p.stored)} -> ${String(p.configured)}: ${p.apply}`,
    );
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join("  ")
      .trimEnd(),
  );
}

function ago(iso: string | null): string {
  if (iso === null) return "-";
  const ms = Date.now() - Date.parse(iso);
  if (!Number.isFinite(ms)) return iso;
  return ms < 1_000 ? "now" : ms < 120_000 ? `${Math.round(ms / 1000)} s ago` : iso;
}
