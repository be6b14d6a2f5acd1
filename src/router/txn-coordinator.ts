// The coordinator of transactions across shards (http-api.md "Transactions across namespaces"):
// prepare every participant shard in parallel, record the decision in one shard (the first
// participant's: its transaction record), resolve every participant in parallel, forget the
// record. Each step is one Raft entry per shard, through the Router's write. The protocol's
// state machine is src/store/txn-prepare.ts and txn-record.ts; test/sim/txn runs this same
// sequence with coordinators that vanish between any two steps.
//
// Design decision: the coordinator keeps nothing durable of its own. A Worker request can be
// cancelled or its isolate die at any await; whatever it leaves (intents, a commit record) is
// finished by whoever meets an intent past its deadline (`recoverIntent`, called by the
// intent-aware Router, intents.ts): decide abort by recovery, which returns the coordinator's
// commit if that came first, then resolve every participant as recorded.
import {
  namespaceOf,
  type CommandAudit,
  type Fence,
  type TxnBranch,
  type TxnCompare,
  type TxnIntent,
  type TxnOp,
  type TxnOpResult,
  type WriteOutcome,
} from "../store/index.ts";
import { formatTokens, type Router } from "./types.ts";

export const txnCoordinatorLimits = {
  /**
   * From prepare to the deadline, in ms: three Raft rounds take ~10-300 ms (one region to
   * WAN); past the deadline whoever meets an intent may abort the txn, so a conflicting write
   * waits at most this long for a coordinator that vanished.
   */
  deadlineMs: 3_000,
} as const;

export interface CrossShardTxn {
  compare: TxnCompare[];
  success: TxnOp[];
  failure: TxnOp[];
  audit?: CommandAudit;
  fence?: Fence;
  /** Only for namespaces on one shard (shardTxn); across shards the txn id carries it. */
  idempotencyKey?: string;
}

export type CrossShardAnswer =
  | {
      type: "committed";
      succeeded: boolean;
      /** One per op of the branch that ran, in request order. */
      results: TxnOpResult[];
      /** Each namespace's shard revision after the txn. */
      revisions: Record<string, number>;
      token: string;
      /** A retry (same Idempotency-Key) of a txn that had committed: its first answer. */
      replayed: boolean;
    }
  /** A participant refused its prepare (a conflict, a fence, a schema, a quota, bad input). */
  | { type: "refused"; outcome: WriteOutcome }
  /** The deadline passed before the decision: aborted, nothing written. */
  | { type: "expired" };

interface Part {
  shard: number;
  /** The namespaces of the txn on this shard; the first one addresses the shard. */
  namespaces: string[];
  compare: TxnCompare[];
  success: TxnOp[];
  failure: TxnOp[];
}

export interface CoordinatorIo {
  nowMs(): number;
  newTxnId(): string;
  /** Lets work finish after the answer (a Worker's waitUntil); absent: it is awaited. */
  defer?(work: Promise<unknown>): void;
}

/** Splits the txn by shard, in the order its namespaces first appear. */
export async function partsOf(router: Router, txn: CrossShardTxn): Promise<Part[]> {
  const namespaces = [
    ...new Set([...txn.compare, ...txn.success, ...txn.failure].map((x) => namespaceOf(x.key))),
  ];
  const shards = await Promise.all(namespaces.map((n) => router.shardOf(n)));
  const parts = new Map<number, Part>();
  namespaces.forEach((namespace, i) => {
    const shard = shards[i]!;
    const part = parts.get(shard) ?? {
      shard,
      namespaces: [],
      compare: [],
      success: [],
      failure: [],
    };
    part.namespaces.push(namespace);
    parts.set(shard, part);
  });
  const partOf = (key: string) => parts.get(shards[namespaces.indexOf(namespaceOf(key))]!)!;
  for (const c of txn.compare) partOf(c.key).compare.push(c);
  for (const o of txn.success) partOf(o.key).success.push(o);
  for (const o of txn.failure) partOf(o.key).failure.push(o);
  return [...parts.values()];
}

export async function runCrossShardTxn(
  router: Router,
  txn: CrossShardTxn,
  parts: Part[],
  io: CoordinatorIo,
): Promise<CrossShardAnswer> {
  if (parts.length === 1) return oneShard(router, txn, parts[0]!, io);
  const txnId = io.newTxnId();
  const deadlineMs = io.nowMs() + txnCoordinatorLimits.deadlineMs;
  const participants = parts.map((p) => p.namespaces[0]!);
  const recordNamespace = participants[0]!;
  const prepared = await Promise.allSettled(
    parts.map((p) =>
      router.write(p.namespaces[0]!, {
        type: "txnPrepare",
        atMs: io.nowMs(),
        txnId,
        compare: p.compare,
        success: p.success,
        failure: p.failure,
        recordNamespace,
        participants,
        deadlineMs,
        ...(txn.audit === undefined ? {} : { audit: txn.audit }),
        ...(txn.fence === undefined ? {} : { fence: txn.fence }),
      }),
    ),
  );
  const abort = { txnId, deadlineMs, participants, recordNamespace, decision: "abort" as const };
  const failed = prepared.find((r) => r.status === "rejected");
  const refused = prepared.find(
    (r) => r.status === "fulfilled" && r.value.outcome.type !== "txnPrepared",
  );
  if (refused !== undefined && isReplay(refused)) return replay(router, txn, parts, abort, io);
  if (failed !== undefined || refused !== undefined) {
    await finish(router, abort, io).catch(() => null);
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
    const outcome = (refused as PromiseFulfilledResult<{ outcome: WriteOutcome }>).value.outcome;
    if (outcome.type === "intent")
      await recoverIntent(router, outcome.intent, io).catch(() => false);
    return { type: "refused", outcome };
  }
  const held = prepared.every(
    (r) =>
      r.status === "fulfilled" && r.value.outcome.type === "txnPrepared" && r.value.outcome.held,
  );
  const branch: TxnBranch = held ? "success" : "failure";
  const decided = await router.write(recordNamespace, {
    type: "txnRecordDecide",
    atMs: io.nowMs(),
    txnId,
    decision: "commit",
    branch,
    deadlineMs,
    by: "coordinator",
    recordNamespace,
    participants,
    // The record's shard is the first participant: it resolves its part in the same entry.
    resolveHere: true,
  });
  const o = decided.outcome;
  if (o.type !== "txnDecision" || o.decision !== "commit" || o.resolved === undefined) {
    await finish(router, abort, io).catch(() => null);
    return { type: "expired" };
  }
  const here = { results: o.resolved.results, revision: o.resolved.committedRevision };
  const rest = { ...abort, participants: participants.slice(1), decision: "commit" as const };
  const resolved = await finish(router, { ...rest, branch }, io);
  return committed(txn, parts, held, [here, ...resolved], false);
}

/** Namespaces the ring placed on one shard: one Raft round (the store's shardTxn). */
async function oneShard(
  router: Router,
  txn: CrossShardTxn,
  part: Part,
  io: CoordinatorIo,
): Promise<CrossShardAnswer> {
  const w = await router.write(part.namespaces[0]!, {
    type: "shardTxn",
    atMs: io.nowMs(),
    compare: txn.compare,
    success: txn.success,
    failure: txn.failure,
    ...(txn.idempotencyKey === undefined ? {} : { idempotencyKey: txn.idempotencyKey }),
    ...(txn.audit === undefined ? {} : { audit: txn.audit }),
    ...(txn.fence === undefined ? {} : { fence: txn.fence }),
  });
  const o = w.outcome;
  if (o.type !== "txn") return { type: "refused", outcome: o };
  const revisions = Object.fromEntries(part.namespaces.map((n) => [n, o.revision]));
  const { succeeded, results } = o;
  return {
    type: "committed",
    succeeded,
    results,
    revisions,
    token: w.token,
    replayed: o.deduplicated === true,
  };
}

function isReplay(r: PromiseSettledResult<{ outcome: WriteOutcome }>): boolean {
  return (
    r.status === "fulfilled" &&
    r.value.outcome.type === "txnPrepareRefused" &&
    r.value.outcome.reason === "resolved"
  );
}

/**
 * A prepare found its txn already resolved: this is a retry (same Idempotency-Key, same txn id)
 * of one that ended. The record says how (read by a recovery decision, which records nothing
 * before the deadline); a commit's resolves return the first results from the tombstones.
 */
async function replay(
  router: Router,
  txn: CrossShardTxn,
  parts: Part[],
  d: Decided,
  io: CoordinatorIo,
): Promise<CrossShardAnswer> {
  const decided = await router.write(d.recordNamespace, {
    type: "txnRecordDecide",
    atMs: io.nowMs(),
    txnId: d.txnId,
    decision: "abort",
    deadlineMs: d.deadlineMs,
    by: "recovery",
    recordNamespace: d.recordNamespace,
    participants: d.participants,
  });
  const o = decided.outcome;
  if (o.type !== "txnDecision" || o.decision !== "commit" || o.branch === undefined) {
    return {
      type: "refused",
      outcome: { type: "txnPrepareRefused", revision: 0, txnId: d.txnId, reason: "resolved" },
    };
  }
  const resolved = await finish(router, { ...d, decision: "commit", branch: o.branch }, io);
  return committed(txn, parts, o.branch === "success", resolved, true);
}

interface Decided {
  txnId: string;
  deadlineMs: number;
  participants: string[];
  recordNamespace: string;
  decision: "commit" | "abort";
  branch?: TxnBranch;
}

/** Resolves every participant as decided, then forgets the record: each shard's answer. */
async function finish(
  router: Router,
  d: Decided,
  io: CoordinatorIo,
): Promise<{ results: TxnOpResult[]; revision: number }[]> {
  const branch = d.branch === undefined ? {} : { branch: d.branch };
  const answers = await Promise.all(
    d.participants.map(async (namespace) => {
      const w = await router.write(namespace, {
        type: "txnResolve",
        atMs: io.nowMs(),
        txnId: d.txnId,
        decision: d.decision,
        ...branch,
        deadlineMs: d.deadlineMs,
      });
      const o = w.outcome;
      if (o.type !== "txnResolved") throw new Error(`txnResolve answered ${o.type}`);
      return { results: o.results, revision: o.committedRevision };
    }),
  );
  const forget = router.write(d.recordNamespace, {
    type: "txnRecordForget",
    atMs: io.nowMs(),
    txnId: d.txnId,
  });
  // Off the answer's path when the request can outlive its response (waitUntil): a record
  // left by a lost forget costs only memory, and recovery forgets it too.
  if (io.defer === undefined) await forget;
  else io.defer(forget.catch(() => undefined));
  return answers;
}

function committed(
  txn: CrossShardTxn,
  parts: Part[],
  held: boolean,
  resolved: { results: TxnOpResult[]; revision: number }[],
  replayed: boolean,
): CrossShardAnswer {
  const revisions: Record<string, number> = {};
  const byShard = new Map<number, number>();
  const next = new Map<number, number>();
  parts.forEach((p, i) => {
    for (const namespace of p.namespaces) revisions[namespace] = resolved[i]!.revision;
    byShard.set(p.shard, resolved[i]!.revision);
    next.set(p.shard, 0);
  });
  const shardOfNamespace = new Map(parts.flatMap((p) => p.namespaces.map((n) => [n, p] as const)));
  const results = (held ? txn.success : txn.failure).map((op) => {
    const part = shardOfNamespace.get(namespaceOf(op.key))!;
    const k = next.get(part.shard)!;
    next.set(part.shard, k + 1);
    return resolved[parts.indexOf(part)]!.results[k]!;
  });
  const token = formatTokens(byShard);
  return { type: "committed", succeeded: held, results, revisions, token, replayed };
}

/**
 * Whoever meets an intent past its deadline finishes its txn: decide abort by recovery (the
 * record's first decision wins, so a commit that came first comes back), resolve every
 * participant as decided, forget. False when the deadline has not passed on the record's shard.
 */
export async function recoverIntent(
  router: Router,
  intent: TxnIntent,
  io: CoordinatorIo,
): Promise<boolean> {
  if (io.nowMs() < intent.deadlineMs) return false;
  const decided = await router.write(intent.recordNamespace, {
    type: "txnRecordDecide",
    atMs: io.nowMs(),
    txnId: intent.txnId,
    decision: "abort",
    deadlineMs: intent.deadlineMs,
    by: "recovery",
    recordNamespace: intent.recordNamespace,
    participants: intent.participants,
  });
  const o = decided.outcome;
  if (o.type !== "txnDecision" || o.decision === "undecided") return false;
  await finish(
    router,
    {
      txnId: intent.txnId,
      deadlineMs: intent.deadlineMs,
      participants: intent.participants,
      recordNamespace: intent.recordNamespace,
      decision: o.decision,
      ...(o.branch === undefined ? {} : { branch: o.branch }),
    },
    io,
  );
  return true;
}
