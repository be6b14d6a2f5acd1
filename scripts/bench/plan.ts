// What a run measures: cells per target, their length, and the extras (WAN, idle). `--quick`
// keeps only the cells the summary needs, at 2 s each, so it finishes in about a minute.
import { parseArgs } from "node:util";
import type { TargetId } from "./summary.ts";
import type { ReshardCellOptions } from "./reshard-cell.ts";
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
  /** Measure the idle cost (a quiesced shard's DO requests per minute) at the end. */
  idle: boolean;
  idleWindowMs: number;
  /** Longest wait for the shard to stop making DO requests before the idle window starts. */
  idleSettleMaxMs: number;
  etcd: boolean;
  /** The reshard cell (reshard-cell.ts), last, on a store of its own; null: not run. */
  reshard: ReshardCellOptions | null;
  /** Extra [vars] for the edgecfg Worker; {} runs the Worker's default backend. */
  edgecfgVars: Record<string, string>;
  outDir: string;
}

/**
 * The backend the edgecfg rows run on when `--backend` is not given. Undefined = the Worker's
 * default. Flip to "raft" once the Raft backend lands (or pass `--backend raft`).
 */
const defaultBackend: string | undefined = undefined;

/** Vars per backend: the summary compares a 3-replica group, whatever wrangler.toml's default. */
const backendVars: Record<string, Record<string, string>> = {
  raft: { BACKEND: "raft", REPLICAS_PER_SHARD: "3" },
};

function edgecfgVars(backend: string | undefined, extra: string[]): Record<string, string> {
  const vars = backend === undefined ? {} : (backendVars[backend] ?? { BACKEND: backend });
  const pairs = extra.map((kv) => {
    const at = kv.indexOf("=");
    if (at < 1) throw new Error(`--var ${kv}: expected NAME=value, e.g. --var TICK_MS=20`);
    return [kv.slice(0, at), kv.slice(at + 1)];
  });
  return { ...vars, ...Object.fromEntries(pairs) };
}

const concurrencies = [1, 16, 64];
const scenarioNames: ScenarioName[] = [
  "health",
  "read",
  "stale",
  "bundle",
  "flags304",
  "flagEval",
  "cas",
  "contention",
  "mix",
  "put4k",
  "put4kSchema",
  "apply1k",
  "lock",
  "keepalive",
  "txn1",
  "txn2",
  "txn4",
];

/**
 * Lock contenders: one (a cycle's own cost) and 16 (the issue's target); 64 waiters on one lock
 * measure the same serial hand-over as 16, only with longer queues.
 */
const lockConcurrencies = [1, 16];
const fewClients = (s: ScenarioName) => s === "lock" || s === "keepalive";
/** Txns across shards: alone (the protocol's latency) and at 64 (its throughput, issue 20). */
const txnScenario = (s: ScenarioName) => s === "txn1" || s === "txn2" || s === "txn4";
const concurrenciesOf = (s: ScenarioName) =>
  fewClients(s) ? lockConcurrencies : txnScenario(s) ? [1, 64] : concurrencies;
/** The concurrency a scenario's summary row compares at. */
export const summaryConcurrency = (s: ScenarioName) => (fewClients(s) ? 16 : 64);

const allOf = (scenarios: ScenarioName[]): Cell[] =>
  scenarios.flatMap((s) => concurrenciesOf(s).map((c): Cell => [s, c]));

/** A 1,000-entry apply is a deploy, not traffic: measured alone and with a few at once. */
const applyCells: Cell[] = [
  ["apply1k", 1],
  ["apply1k", 4],
];

const fullCells: Record<TargetId, Cell[]> = {
  edgecfg: [...allOf(scenarioNames.filter((s) => s !== "apply1k")), ...applyCells],
  solo: allOf(["read", "stale", "bundle", "cas", "contention"]),
  etcd: allOf(["read", "stale", "cas", "contention", "mix", "lock"]),
  bare: allOf(["read", "cas"]),
};

const quickCells: Record<TargetId, Cell[]> = {
  edgecfg: [
    ...scenarioNames
      .filter((s) => s !== "apply1k" && !txnScenario(s))
      .map((s): Cell => [s, summaryConcurrency(s)]),
    ["apply1k", 1],
    ...allOf(scenarioNames.filter(txnScenario)),
  ],
  solo: [
    ["read", 64],
    ["cas", 64],
  ],
  etcd: [
    ["cas", 64],
    ["lock", 16],
  ],
  bare: [["cas", 64]],
};

const usage = `usage: npm run bench [-- --quick] [--only s1,s2] [--runs N] [--wan] [--backend raft|solo] [--var NAME=value]… [--no-etcd] [--out bench/results]
  --quick     2 s per cell, only the cells the summary needs (about a minute)
  --only      only these scenarios (${scenarioNames.join(", ")}), e.g. --only health,stale
              to check one ratio; skips idle, and WAN unless --wan
  --runs      measured runs per cell (default: 5, or 1 with --quick); ratios are medians over rounds
  --wan       add the simulated-WAN cells to a quick run (a full run always has them)
  --backend   BACKEND var for the edgecfg rows (default: the Worker's default); raft also
              sets REPLICAS_PER_SHARD=3
  --var       an extra [vars] entry for the edgecfg Worker, e.g. --var TICK_MS=20 (repeatable)
  --no-etcd   skip the etcd baseline
  --reshard   add the reshard cell to an --only run (every other run has it: 4 -> 8 shards under
              64 CAS clients, 1,000 namespaces × 10 keys, or 200 with --quick)`;

export function planFromArgs(args: string[]): Plan {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      runs: { type: "string" },
      wan: { type: "boolean", default: false },
      backend: { type: "string" },
      var: { type: "string", multiple: true, default: [] },
      "no-etcd": { type: "boolean", default: false },
      reshard: { type: "boolean", default: false },
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
  const only = values.only === undefined ? undefined : onlyScenarios(values.only);
  const cells = quick ? quickCells : fullCells;
  return {
    mode: quick ? "quick" : "full",
    // Full: five 2 s runs per cell (10 s measured); a median of five shrugs off a noisy neighbour.
    warmupMs: 300,
    runMs: 2_000,
    runs: values.runs === undefined ? (quick ? 1 : 5) : runsOf(values.runs),
    concurrencies,
    cells: only === undefined ? cells : filterCells(cells, only),
    wan: only === undefined ? !quick || values.wan : values.wan,
    idle: only === undefined,
    idleWindowMs: quick ? 20_000 : 60_000,
    idleSettleMaxMs: quick ? 3_000 : 15_000,
    etcd: !values["no-etcd"],
    reshard: only === undefined || values.reshard ? reshardCell(quick) : null,
    edgecfgVars: edgecfgVars(backend, values.var),
    outDir: values.out,
  };
}

/** 1,000 namespaces × 10 keys take about a minute to move 4 -> 8 here; --quick moves 200. */
function reshardCell(quick: boolean): ReshardCellOptions {
  const namespaces = quick ? 200 : 1_000;
  return { clients: 64, namespaces, keysPerNamespace: 10, toShards: 8, beforeMs: 3_000 };
}

function onlyScenarios(list: string): Set<ScenarioName> {
  const names = list
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const unknown = names.filter((n) => !(scenarioNames as string[]).includes(n));
  if (names.length === 0 || unknown.length > 0) {
    throw new Error(
      `--only ${list}: ${unknown.length > 0 ? `unknown scenario ${unknown.join(", ")}` : "no scenario named"}; pick from ${scenarioNames.join(", ")}`,
    );
  }
  return new Set(names as ScenarioName[]);
}

function filterCells(
  cells: Record<TargetId, Cell[]>,
  only: Set<ScenarioName>,
): Record<TargetId, Cell[]> {
  const keep = (list: Cell[]) => list.filter(([scenario]) => only.has(scenario));
  return {
    edgecfg: keep(cells.edgecfg),
    solo: keep(cells.solo),
    etcd: keep(cells.etcd),
    bare: keep(cells.bare),
  };
}

function runsOf(raw: string): number {
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1 || n > 50)
    throw new Error(`--runs ${raw}: expected a whole number of runs from 1 to 50`);
  return n;
}
