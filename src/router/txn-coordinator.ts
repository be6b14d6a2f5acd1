// The coordinator of transactions across shards (http-api.md "Transactions across namespaces"):
// parallel commits (src/store/txn-staged.ts), two Raft rounds on the answer's path. Round one
// prepares every participant shard in parallel; the record namespace's shard writes the record
// STAGING in its prepare's entry. Round two settles the record (commit, resolving the record
// shard's part in the same entry) and resolves every other participant, all in parallel: each
// answer carries that shard's commit revision, which the client's answer needs. txnForget then
// goes off the answer's path. test/sim/txn runs this same sequence with coordinators that vanish
// between any two steps; recovery (whoever meets an old intent) is txn-recovery.ts.
//
// Design decision: the coordinator keeps nothing durable of its own. A Worker request can be
// cancelled or its isolate die at any await; whatever it leaves (intents, a STAGING record) is
// finished by whoever meets an intent past its deadline (`recoverIntent`, called by the
// intent-aware Router, intents.ts), which learns from probes whether every part was prepared.
// An abort settles the record first (compare-and-set) and only then resolves the others, and the
// client hears "refused" only once that abort is recorded: until then a late prepare could still
// complete the txn.
import {
  namespaceOf,
  type CommandAudit,
  type Fence,
  type TxnBranch,
  type TxnCompare,
  type TxnKeyedAnswer,
  type TxnKeyedOutcome,
  type TxnOp,
  type TxnOpResult,
  type TxnOutcome,
  type WriteOutcome,
} from "../store/index.ts";
import {
  forgetAll,
  recoverIntent,
  resolveAll,
  settleCommand,
  type CoordinatorIo,
  type Settled,
  type TxnRef,
} from "./txn-recovery.ts";
import { flushForget, queueForget, takeForgets } from "./txn-forgets.ts";
import {
  assemble,
  forgetWithAnswer,
  isKeyedReplay,
  keyedIdempotency,
  replayParts,
} from "./txn-keyed.ts";
import { formatTokens, ShardUnavailableError, type Router } from "./types.ts";

export { recoverIntent, type CoordinatorIo } from "./txn-recovery.ts";

export const txnCoordinatorLimits = {
  /**
   * From prepare to the deadline, in ms: two Raft rounds take ~10-200 ms (one region to WAN);
   * past the deadline whoever meets an intent may recover the txn (an unprepared part then
   * aborts it), so a conflicting write waits at most this long for a coordinator that vanished.
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
  | { type: "refused"; outcome: WriteOutcome };

interface Part {
  shard: number;
  /** The namespaces of the txn on this shard; the first one addresses the shard. */
  namespaces: string[];
  compare: TxnCompare[];
  success: TxnOp[];
  failure: TxnOp[];
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
  const participants = parts.map((p) => p.namespaces[0]!);
  const t: TxnRef = {
    txnId: io.newTxnId(),
    deadlineMs: io.nowMs() + txnCoordinatorLimits.deadlineMs,
    participants,
    recordNamespace: participants[0]!,
  };
  const prepared = await Promise.allSettled(parts.map((p) => prepare(router, txn, p, t, io)));
  const first = prepared[0]!;
  if (first.status === "fulfilled" && isKeyedReplay(first.value.outcome))
    return replayKeyed(router, txn, parts, t, first.value.outcome, io);
  const failed = prepared.find((r) => r.status === "rejected");
  const refused = prepared.find(
    (r) => r.status === "fulfilled" && r.value.outcome.type !== "txnPrepared",
  );
  if (refused !== undefined && isReplay(refused)) return replay(router, txn, parts, t, io);
  if (failed !== undefined || refused !== undefined) {
    const ended = await abort(router, txn, parts, t, io);
    if (ended !== null) return ended;
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
  // Every part is prepared: the txn is (implicitly) committed. Round two, all in parallel.
  const settled: Settled = { decision: "commit", branch: held ? "success" : "failure" };
  const [here, rest] = await Promise.all([
    router.write(t.recordNamespace, settleCommand(t, settled, "coordinator", io)),
    resolveAll(router, t, settled, participants.slice(1), io),
  ]);
  const o = here.outcome;
  // Only a settle too late to find anything (every step done and dropped) or a shard answering
  // no decision: the txn is committed, whatever this request can tell.
  if (o.type !== "txnDecision" || o.decision !== "commit" || o.resolved === undefined)
    throw unknownOutcome(t, `its record answered ${o.type}`);
  const mine = { results: o.resolved.results, revision: o.resolved.committedRevision };
  const answer = answerOf(parts, [mine, ...rest]);
  await forgetLater(router, t, txn.idempotencyKey === undefined ? undefined : answer, io);
  return committed(txn, parts, held, answer, false);
}

/**
 * The forgets ride on later prepares (txn-forgets.ts) when the request outlives its answer; a
 * keyed txn's record namespace first gets its own, bringing the answer (txn-keyed.ts).
 */
async function forgetLater(
  router: Router,
  t: TxnRef,
  answer: TxnKeyedAnswer | undefined,
  io: CoordinatorIo,
): Promise<void> {
  const ride = async (namespaces: string[]) => {
    queueForget(t.txnId, namespaces);
    await flushForget(router, t.txnId, namespaces, io.nowMs);
  };
  if (answer !== undefined) {
    const rest =
      io.defer === undefined
        ? (n: string[]) => forgetAll(router, { ...t, participants: n }, io)
        : ride;
    const work = forgetWithAnswer(router, t, answer, io, rest);
    if (io.defer === undefined) return work;
    return io.defer(work.catch(() => undefined));
  }
  if (io.defer === undefined) return forgetAll(router, t, io);
  io.defer(ride(t.participants).catch(() => undefined));
}

/** What each part did, in participants order: the answer a keyed retry replays. */
function answerOf(
  parts: Part[],
  resolved: { results: TxnOpResult[]; revision: number }[],
): TxnKeyedAnswer {
  return { parts: parts.map((p, i) => ({ namespaces: p.namespaces, ...resolved[i]! })) };
}

/** One participant's prepare, carrying the forgets owed to its shard (queued again if it fails). */
async function prepare(router: Router, txn: CrossShardTxn, p: Part, t: TxnRef, io: CoordinatorIo) {
  const namespace = p.namespaces[0]!;
  const forgets = takeForgets(namespace);
  try {
    return await router.write(namespace, {
      ...prepareCommand(txn, p, t, io),
      ...(forgets.length === 0 ? {} : { forgets }),
    });
  } catch (error) {
    for (const id of forgets) queueForget(id, [namespace]);
    throw error;
  }
}

function prepareCommand(txn: CrossShardTxn, p: Part, t: TxnRef, io: CoordinatorIo) {
  return {
    type: "txnPrepare" as const,
    atMs: io.nowMs(),
    txnId: t.txnId,
    compare: p.compare,
    success: p.success,
    failure: p.failure,
    recordNamespace: t.recordNamespace,
    participants: t.participants,
    deadlineMs: t.deadlineMs,
    ...(txn.audit === undefined ? {} : { audit: txn.audit }),
    ...(txn.fence === undefined ? {} : { fence: txn.fence }),
    staging: true as const,
    ...(p.namespaces.includes(t.recordNamespace) ? keyedOf(txn) : {}),
  };
}

function keyedOf(txn: CrossShardTxn) {
  const idempotency = keyedIdempotency(txn);
  return idempotency === undefined ? {} : { idempotency };
}

/**
 * A prepare was refused or failed: settle abort on the record (compare-and-set), then resolve the
 * other participants. Null once aborted; the committed answer when recovery had found every part
 * prepared and committed first. Throws while the abort is not recorded: the outcome is unknown.
 */
async function abort(
  router: Router,
  txn: CrossShardTxn,
  parts: Part[],
  t: TxnRef,
  io: CoordinatorIo,
): Promise<CrossShardAnswer | null> {
  const w = await router.write(
    t.recordNamespace,
    settleCommand(t, { decision: "abort" }, "coordinator", io),
  );
  const o = w.outcome;
  if (o.type !== "txnDecision" || o.decision === "undecided" || o.resolved === undefined)
    throw unknownOutcome(t, `its abort could not be recorded (${o.type})`);
  const settled = settledOf({ ...o, decision: o.decision });
  // Recovery committed it, every part resolved, and forgot it meanwhile: its results are gone.
  if (settled.decision === "commit" && settled.branch === undefined)
    throw unknownOutcome(t, "it was committed and forgotten meanwhile");
  const rest = await resolveAll(router, t, settled, t.participants.slice(1), io);
  await forgetAll(router, t, io);
  if (settled.decision === "abort") return null;
  const here = { results: o.resolved.results, revision: o.resolved.committedRevision };
  return committed(
    txn,
    parts,
    settled.branch === "success",
    answerOf(parts, [here, ...rest]),
    false,
  );
}

/** 503: the txn's outcome is whatever recovery finds once its deadline has passed. */
function unknownOutcome(t: TxnRef, why: string): ShardUnavailableError {
  return new ShardUnavailableError(
    `transaction ${t.txnId}: ${why}; its outcome is known once its deadline has passed: read ` +
      "its keys, or retry with the same Idempotency-Key",
    txnCoordinatorLimits.deadlineMs,
  );
}

function settledOf(o: { decision: "commit" | "abort"; branch?: TxnBranch }): Settled {
  return { decision: o.decision, ...(o.branch === undefined ? {} : { branch: o.branch }) };
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
  // A retry of a keyed cross-shard txn whose namespaces a reshard has put on one shard since.
  if (o.type === "txnKeyed" && o.deduplicated === true)
    return answerFirst(router, txn, [part], o, io);
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
 * of one that ended. The record says how (a probe of the record's shard reads it); a commit's
 * resolves return the first results from the tombstones.
 */
async function replay(
  router: Router,
  txn: CrossShardTxn,
  parts: Part[],
  t: TxnRef,
  io: CoordinatorIo,
): Promise<CrossShardAnswer> {
  const w = await router.write(t.recordNamespace, {
    type: "txnProbe",
    atMs: io.nowMs(),
    txnId: t.txnId,
    deadlineMs: t.deadlineMs,
  });
  const o = w.outcome;
  const branch = o.type === "txnProbed" ? (o.record?.branch ?? o.branch) : undefined;
  const commit =
    o.type === "txnProbed" &&
    (o.record?.decision === "commit" || (o.record === undefined && o.part === "committed"));
  // Recovery aborted this attempt (it was slower than its deadline): nothing was written.
  if (!commit || branch === undefined) {
    return {
      type: "refused",
      outcome: { type: "txnPrepareRefused", revision: 0, txnId: t.txnId, reason: "expired" },
    };
  }
  const resolved = await resolveAll(router, t, { decision: "commit", branch }, t.participants, io);
  await forgetAll(router, t, io);
  return committed(txn, parts, branch === "success", answerOf(parts, resolved), true);
}

/**
 * The record's shard answered this attempt with the key's first outcome: this attempt is
 * aborted (it prepared elsewhere), and the first outcome answered again, or 409 when its
 * results are no longer kept.
 */
async function replayKeyed(
  router: Router,
  txn: CrossShardTxn,
  parts: Part[],
  t: TxnRef,
  first: TxnKeyedOutcome | TxnOutcome,
  io: CoordinatorIo,
): Promise<CrossShardAnswer> {
  await abort(router, txn, parts, t, io);
  return answerFirst(router, txn, parts, first, io);
}

/** The key's first outcome, answered again; refused (409) when its results are gone. */
async function answerFirst(
  router: Router,
  txn: CrossShardTxn,
  parts: Part[],
  first: TxnKeyedOutcome | TxnOutcome,
  io: CoordinatorIo,
): Promise<CrossShardAnswer> {
  const kept = await replayParts(
    router,
    first,
    parts.flatMap((p) => p.namespaces),
    io,
  );
  if (kept === null) {
    const txnId = first.type === "txnKeyed" ? first.txnId : "";
    return {
      type: "refused",
      outcome: { type: "txnPrepareRefused", revision: 0, txnId, reason: "resolved" },
    };
  }
  return committed(txn, parts, kept.held, { parts: kept.parts }, true);
}

function committed(
  txn: CrossShardTxn,
  parts: Part[],
  held: boolean,
  answer: TxnKeyedAnswer,
  replayed: boolean,
): CrossShardAnswer {
  const { results, revisions } = assemble(txn, held, answer.parts);
  // Each shard's token: the newest revision of its namespaces (a replay's may have moved since;
  // a move's target is past every revision the namespace had, so the token still holds there).
  const byShard = new Map<number, number>();
  for (const p of parts)
    byShard.set(p.shard, Math.max(...p.namespaces.map((n) => revisions[n] ?? 0)));
  const token = formatTokens(byShard);
  return { type: "committed", succeeded: held, results, revisions, token, replayed };
}
