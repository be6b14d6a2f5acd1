// Shapes shared by the bench orchestrator (scripts/bench.ts) and the load generator child
// (scripts/bench/load.ts). Everything here crosses the process boundary as JSON.

/** What a load generator drives: the edgecfg Worker over its HTTP API, or etcd's JSON gateway. */
export type Target =
  | { kind: "edgecfg"; url: string; adminToken: string }
  | { kind: "etcd"; url: string };

export type ScenarioName =
  | "health"
  | "read"
  | "stale"
  | "bundle"
  | "flags304"
  | "flagEval"
  | "cas"
  | "contention"
  | "mix"
  | "put4k"
  | "put4kSchema"
  | "apply1k"
  | "lock"
  | "keepalive"
  | "txn1"
  | "txn2"
  | "txn4";

/** One cell: a scenario at one concurrency against one target. */
export interface LoadSpec {
  target: Target;
  scenario: ScenarioName;
  concurrency: number;
  warmupMs: number;
  /** Length of one measured run; the cell is `runs` of them back to back. */
  runMs: number;
  runs: number;
  /** Keys the scenario works on; the orchestrator seeds them before the first cell. */
  keys: BenchKeys;
}

export interface BenchKeys {
  /** Keys for read scenarios and the mix, seeded with small JSON values. */
  readKeys: string[];
  /** The namespace whose bundle the bundle scenario polls (and whose flags OFREP evaluates). */
  bundleNamespace: string;
  /** The flagd flag with a 3-rule targeting that the flagEval scenario evaluates. */
  targetedFlag: string;
  /** Prefix of the per-client CAS keys: client i owns `${casPrefix}${i}`. */
  casPrefix: string;
  /** The one key every client fights over in the contention scenario. */
  hotKey: string;
  /** The lock every client of the lock scenario contends for ("{namespace}/{name}"). */
  lock: string;
  /** The namespace of the leases that hold it. */
  lockNamespace: string;
}

/** One measured run, as the load generator reports it. */
export interface RunResult {
  elapsedMs: number;
  /** Operations that got an expected answer (for CAS: the PUT, whether it won or lost). */
  ops: number;
  /** CAS PUTs that won (200/201); equals ops for scenarios without a precondition. */
  successes: number;
  /** Answers outside the scenario's expectations (5xx, 404 on a seeded key, network errors). */
  errors: number;
  statuses: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  /** CPU the load generator itself used during the run (user + system seconds). */
  clientCpuSeconds: number;
}

/** Lines the load generator writes on stdout, one JSON object each. */
export type LoadMessage =
  | { type: "start"; run: number }
  | { type: "end"; run: number; result: RunResult }
  | { type: "done" }
  | { type: "fatal"; message: string };
