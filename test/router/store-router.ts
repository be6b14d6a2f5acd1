// A router over in-memory Stores, one per shard, that applies each command at once: the txn
// coordinator and recovery (src/router/txn-*.ts) run against the real state machine without
// workerd. `placement` says which shard holds a namespace; every write is logged.
import type { CoordinatorIo } from "../../src/router/txn-recovery.ts";
import { partsOf, runCrossShardTxn, type CrossShardTxn } from "../../src/router/txn-coordinator.ts";
import { formatTokens, type Router, type Written } from "../../src/router/types.ts";
import { Store } from "../../src/store/store.ts";
import type { Command, TxnIntent } from "../../src/store/types.ts";

export { bytes, putOp as put } from "../store/helpers.ts";
import { putOp as put } from "../store/helpers.ts";

/** A put on each of two namespaces: a/x = 1 and b/y = 2. */
export const twoKeys: CrossShardTxn = {
  compare: [],
  success: [put("a/x", "1"), put("b/y", "2")],
  failure: [],
};

/**
 * a/x does not exist yet (holds on a, the record's namespace); b/y's version must be 5: false
 * while b/y does not exist, so the failure branch runs on both shards.
 */
export const failsOnB: CrossShardTxn = {
  compare: [
    { key: "a/x", target: "version", op: "=", value: 0 },
    { key: "b/y", target: "version", op: "=", value: 5 },
  ],
  success: [put("a/x", "yes"), put("b/y", "yes")],
  failure: [put("a/x", "no"), put("b/f", "no")],
};

/** Runs `txn` through the coordinator over `router`'s Stores. */
export async function runTxn(router: StoreRouter, io: CoordinatorIo, txn: CrossShardTxn) {
  const r = router as unknown as Router;
  return runCrossShardTxn(r, txn, await partsOf(r, txn), io);
}

/** Shards as Stores; `placement` says which holds a namespace; every write is logged. */
export class StoreRouter {
  readonly stores = Array.from({ length: 4 }, () => new Store());
  readonly index = [0, 0, 0, 0];
  readonly log: { namespace: string; type: string; answer?: boolean }[] = [];
  /** Every command written, in order. */
  readonly commands: Command[] = [];
  drop: (namespace: string, c: Command) => boolean = () => false;
  /** Its reply lost: applied, then the write fails. */
  lose: (namespace: string, c: Command) => boolean = () => false;
  /** Runs before a command is applied (another request's work, interleaved). */
  before: (namespace: string, c: Command) => Promise<void> = async () => undefined;
  /** What the router answers for an applied command (the shard's answer by default). */
  answer: (c: Command, w: Written) => Written = (_c, w) => w;
  constructor(public placement: Record<string, number>) {}

  async shardOf(namespace: string): Promise<number> {
    return this.placement[namespace]!;
  }

  async write(namespace: string, c: Command): Promise<Written> {
    await this.before(namespace, c);
    const shard = this.placement[namespace]!;
    this.log.push({ namespace, type: c.type, ...("answer" in c ? { answer: true } : {}) });
    this.commands.push(c);
    if (this.drop(namespace, c)) throw new Error("lost");
    this.stores[shard]!.checkInvariants();
    this.index[shard]! += 1;
    const outcome = this.stores[shard]!.apply(this.index[shard]!, c);
    if (this.lose(namespace, c)) throw new Error("reply lost");
    return this.answer(c, { outcome, token: formatTokens(new Map([[shard, outcome.revision]])) });
  }
}

export function clock(start = 1_700_000_000_000) {
  let now = start;
  let n = 0;
  const io: CoordinatorIo = { nowMs: () => now, newTxnId: () => `t${++n}` };
  return { io, pass: (ms: number) => (now += ms) };
}

/** `io` with a waitUntil that keeps the deferred work, for the test to await. */
export function deferring(io: CoordinatorIo) {
  const deferred: Promise<unknown>[] = [];
  return { io: { ...io, defer: (w: Promise<unknown>) => void deferred.push(w) }, deferred };
}

/** The settle applies, but its answer is none the coordinator can read. */
export function unreadableSettle(c: Command, w: Written): Written {
  if (c.type !== "txnRecordSettle") return w;
  return { ...w, outcome: { type: "notFound", revision: w.outcome.revision } };
}

/** An older tombstone with a far deadline keeps shard 0's later ones (pruning stops at it). */
export async function keepTombstones(router: StoreRouter, io: CoordinatorIo) {
  await router.write("a", {
    type: "txnResolve",
    atMs: io.nowMs(),
    txnId: "t0",
    decision: "abort",
    deadlineMs: io.nowMs() + 3_600_000,
  });
}

/** The intent a reader meets on a/x of a txn over namespaces a (its record) and b. */
export function intentOn(txnId: string, deadlineMs: number): TxnIntent {
  return {
    key: "a/x",
    txnId,
    write: true,
    deadlineMs,
    recordNamespace: "a",
    participants: ["a", "b"],
  };
}
