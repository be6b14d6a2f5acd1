// The chaos run's history: every client operation with its invoke and complete times and its
// outcome, or "unknown" when the client could not tell whether a write took effect (a 5xx, a
// timeout, a broken connection). Written as JSON lines; checked per key for linearizability with
// the simulator's checker (test/sim/linearizability.ts) and its KV model, whose CAS compares
// values: every value written is unique, so "unchanged value" means "unchanged version" here.
import {
  checkLinearizable,
  type CheckResult,
  type Operation,
} from "../../test/sim/linearizability.ts";
import { kvModel, type KvInput, type KvOutput } from "../../test/sim/kv-model.ts";

export interface Recorded {
  client: number;
  input: KvInput;
  output: KvOutput;
  /** ms since the run began. */
  invokeMs: number;
  /** null: the outcome is unknown. */
  completeMs: number | null;
}

export class History {
  readonly ops: Recorded[] = [];
  readonly #t0 = performance.now();

  now(): number {
    return performance.now() - this.#t0;
  }

  record(op: Recorded): void {
    this.ops.push(op);
  }

  lines(): string {
    return this.ops.map((op) => JSON.stringify(op)).join("\n") + "\n";
  }
}

/** Per-key linearizability of a history (unknown outcomes may or may not have happened). */
export function checkHistory(ops: readonly Recorded[]): CheckResult {
  const operations: Operation<KvInput, KvOutput>[] = ops.map((op) => ({
    clientId: op.client,
    input: op.input,
    output: op.completeMs === null ? { kind: "unknown" } : op.output,
    call: op.invokeMs,
    return: op.completeMs ?? Number.POSITIVE_INFINITY,
  }));
  return checkLinearizable(kvModel, operations);
}
