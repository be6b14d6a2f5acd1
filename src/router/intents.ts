// A Router that deals with the intents of cross-shard txns (txn-coordinator.ts) for every write
// and linearizable key read of the API: a write meeting an intent, or a linearizable read of a
// key a txn is writing, waits briefly for the txn to finish, and resolves it from its record
// once its deadline has passed (so a vanished coordinator never blocks a key for longer). What is
// still held after the wait is the caller's answer: an `intent` outcome (409 + Retry-After) for
// a write, ShardUnavailableError (503 + Retry-After) for a read, which must not return a value a
// commit already acknowledged may have replaced. Stale reads, bundles and watches read the
// committed state and never meet an intent. Costs the hot path one property test per answer.
import type { Command, Query, QueryResult, TxnIntent } from "../store/index.ts";
import { recoverIntent, type CoordinatorIo } from "./txn-recovery.ts";
import {
  ShardUnavailableError,
  type ClusterStatus,
  type Read,
  type ReadOptions,
  type Router,
  type WaitRequest,
  type Waited,
  type Written,
} from "./types.ts";

export const intentLimits = {
  /** How long a write or read waits for a txn to finish before answering 409 / 503 (ms). */
  waitMsMax: 600,
  /** Between two looks (each a Raft round for a write): a txn commits in 2 rounds. */
  pollMs: 50,
} as const;

const protocol = new Set([
  "txnPrepare",
  "txnResolve",
  "txnRecordDecide",
  "txnRecordForget",
  "txnProbe",
  "txnRecordSettle",
  "txnForget",
]);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const systemIo: CoordinatorIo = {
  nowMs: () => Date.now(),
  newTxnId: () => `tx-${crypto.randomUUID()}`,
};

export function withIntents(inner: Router, io: CoordinatorIo = systemIo): Router {
  return new IntentAware(inner, io);
}

class IntentAware implements Router {
  constructor(
    private readonly inner: Router,
    private readonly io: CoordinatorIo,
  ) {
    if (inner.readNow !== undefined) this.readNow = inner.readNow.bind(inner);
    if (inner.startOperation !== undefined) this.startOperation = inner.startOperation.bind(inner);
    if (inner.operation !== undefined) this.operation = inner.operation.bind(inner);
    if (inner.injectFault !== undefined) this.injectFault = inner.injectFault.bind(inner);
    if (inner.listFaults !== undefined) this.listFaults = inner.listFaults.bind(inner);
  }

  readNow?: Router["readNow"];
  startOperation?: Router["startOperation"];
  operation?: Router["operation"];
  injectFault?: Router["injectFault"];
  listFaults?: Router["listFaults"];

  shardOf(namespace: string): Promise<number> {
    return this.inner.shardOf(namespace);
  }

  async write(namespace: string, command: Command): Promise<Written> {
    let w = await this.inner.write(namespace, command);
    if (w.outcome.type !== "intent" || protocol.has(command.type)) return w;
    const untilMs = this.io.nowMs() + intentLimits.waitMsMax;
    while (w.outcome.type === "intent") {
      if (!(await this.waitOut(w.outcome.intent, untilMs))) return w;
      w = await this.inner.write(namespace, command);
    }
    return w;
  }

  read<Q extends Query>(
    namespace: string,
    query: Q,
    options: ReadOptions,
  ): Promise<Read<QueryResult<Q>>> {
    const read = this.inner.read(namespace, query, options);
    // Only a linearizable key read can meet an intent: the rest pass the promise through.
    if (query.type !== "get" || options.consistency !== "linearizable") return read;
    return this.readPast(read, namespace, query, options);
  }

  private async readPast<Q extends Query>(
    read: Promise<Read<QueryResult<Q>>>,
    namespace: string,
    query: Q,
    options: ReadOptions,
  ): Promise<Read<QueryResult<Q>>> {
    let r = await read;
    const untilMs = this.io.nowMs() + intentLimits.waitMsMax;
    for (let intent = heldBy(r.result); intent !== undefined; intent = heldBy(r.result)) {
      if (!(await this.waitOut(intent, untilMs))) {
        throw new ShardUnavailableError(
          `key ${intent.key} is being written by transaction ${intent.txnId}`,
          intentLimits.waitMsMax,
        );
      }
      r = await this.inner.read(namespace, query, options);
    }
    return r;
  }

  /** Resolves the intent if its deadline has passed, else waits a little; false: out of time. */
  private async waitOut(intent: TxnIntent, untilMs: number): Promise<boolean> {
    if (await recoverIntent(this.inner, intent, this.io)) return true;
    const left = untilMs - this.io.nowMs();
    if (left <= 0) return false;
    await sleep(Math.min(intentLimits.pollMs, left));
    return true;
  }

  waitForChange(namespace: string, request: WaitRequest): Promise<Waited> {
    return this.inner.waitForChange(namespace, request);
  }

  cluster(): Promise<ClusterStatus> {
    return this.inner.cluster();
  }
}

function heldBy(result: unknown): TxnIntent | undefined {
  return (result as { intent?: TxnIntent }).intent;
}
