// What a run measures: cells per target, their length, and the extras (WAN, idle). `--quick`
// keeps only the cells the summary needs, at 2 s each, so it finishes in about a minute.
import { parseArgs } from "node:util";
import type { TargetId } from "./summary.ts";
import type { ScenarioName } from "./types.ts";

export type Cell = [ScenarioName, number];

export interface Plan {
  mode: "quick" | "full";
  warmupMs: number;
  runMs: number;
  runs: number;
  concurrencies: number[];
  cells: Record<TargetId, Cell[]>;
  wan: boolean;
  idleWindowMs: number;
  /** Longest wait for the shard to stop making DO requests before the idle window starts. */
  idleSettleMaxMs: number;
  etcd: boolean;
  /** BENCH vars for the edgecfg rows; {} runs the Worker's default backend. */
  edgecfgVars: Record<string, string>;
  outDir: string;
}

/**
 * The backend the edgecfg rows run on when `--backend` is not given. Undefined = the Worker's
 * default. Flip to "raft" once the Raft backend lands (or pass `--backend raft`).
 */
const defaultBackend: string | undefined = undefined;

const concurrencies = [1, 16, 64];
const allOf = (scenarios: ScenarioName[]): Cell[] => scenarios.flatMap((s) => concurrencies.map((c): Cell => [s, c]));

const fullCells: Record<TargetId, Cell[]> = {
  edgecfg: allOf(["health", "read", "stale", "bundle", "cas", "contention", "mix"]),
  solo: allOf(["read", "stale", "bundle", "cas", "contention"]),
  etcd: allOf(["read", "stale", "cas", "contention", "mix"]),
};

const quickCells: Record<TargetId, Cell[]> = {
  edgecfg: [["health", 64], ["read", 64], ["stale", 64], ["bundle", 64], ["cas", 64], ["contention", 64], ["mix", 64]],
  solo: [["read", 64], ["cas", 64]],
  etcd: [["cas", 64]],
};

const usage = `usage: npm run bench [-- --quick] [--wan] [--backend raft|solo] [--no-etcd] [--out bench/results]
  --quick     2 s per cell, only the cells the summary needs (about a minute)
  --wan       add the simulated-WAN cells to a quick run (a full run always has them)
  --backend   BACKEND var for the edgecfg rows (default: the Worker's default)
  --no-etcd   skip the etcd baseline`;

export function planFromArgs(args: string[]): Plan {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean", default: false },
      wan: { type: "boolean", default: false },
      backend: { type: "string" },
      "no-etcd": { type: "boolean", default: false },
      out: { type: "string", default: "bench/results" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const quick = values.quick;
  const backend = values.backend ?? defaultBackend;
  return {
    mode: quick ? "quick" : "full",
    warmupMs: quick ? 300 : 500,
    runMs: quick ? 2_000 : 3_000,
    runs: quick ? 1 : 3,
    concurrencies,
    cells: quick ? quickCells : fullCells,
    wan: !quick || values.wan,
    idleWindowMs: quick ? 20_000 : 60_000,
    idleSettleMaxMs: quick ? 3_000 : 15_000,
    etcd: !values["no-etcd"],
    edgecfgVars: backend === undefined ? {} : { BACKEND: backend },
    outDir: values.out,
  };
}
