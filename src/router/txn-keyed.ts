// Idempotency-Key across shards, the coordinator's side (src/store/txn-keyed.ts keeps the key
// record on the record namespace's shard). A keyed txn's record namespace prepare carries the key
// and the request's fingerprint; a retry is a new attempt (a new txn id) that the record's shard
// answers with the first outcome instead of preparing, so the coordinator aborts what the
// attempt prepared elsewhere and answers the first outcome again, replayed.
//
// Design decision: the answer a retry gets is the first one, assembled from what each part did,
// never recomputed: the commit's forget brings it to the key record, sent before the other
// parts' forgets so their tombstones (which a replay can also read, while pinned) stay until the
// answer is kept. A replay that finds neither (a forget lost with its isolate, then the
// tombstones gone) is refused with 409, having written nothing: the one thing a retry must never
// do is apply twice.
import {
  namespaceOf,
  requestFingerprint,
  type Fence,
  type TxnCompare,
  type TxnKeyedAnswer,
  type TxnKeyedOutcome,
  type TxnOp,
  type TxnOpResult,
  type TxnOutcome,
  type WriteOutcome,
} from "../store/index.ts";
import { ShardUnavailableError, type Router } from "./types.ts";

export type AnswerPart = TxnKeyedAnswer["parts"][number];

/** What the coordinator and recovery share with this file (txn-recovery.ts imports it). */
interface Clock {
  nowMs(): number;
}
interface Participants {
  txnId: string;
  recordNamespace: string;
  participants: string[];
}

interface KeyedTxn {
  compare: TxnCompare[];
  success: TxnOp[];
  failure: TxnOp[];
  fence?: Fence;
  idempotencyKey?: string;
}

/** The key and the fingerprint of the request, as a single-shard txn's would be (the same key). */
export function keyedIdempotency(txn: KeyedTxn): { key: string; fingerprint: string } | undefined {
  if (txn.idempotencyKey === undefined) return undefined;
  const request = {
    type: "shardTxn" as const,
    atMs: 0,
    compare: txn.compare,
    success: txn.success,
    failure: txn.failure,
    ...(txn.fence === undefined ? {} : { fence: txn.fence }),
  };
  return { key: txn.idempotencyKey, fingerprint: requestFingerprint(request) };
}

/** The record's shard answered a retry with the first outcome (a cross- or single-shard txn). */
export function isKeyedReplay(o: WriteOutcome): o is TxnKeyedOutcome | TxnOutcome {
  return o.deduplicated === true && (o.type === "txnKeyed" || o.type === "txn");
}

/** The branch's results in request order and each namespace's revision, from every part's. */
export function assemble(
  txn: KeyedTxn,
  held: boolean,
  parts: AnswerPart[],
): { results: TxnOpResult[]; revisions: Record<string, number> } {
  const owner = new Map(parts.flatMap((p, i) => p.namespaces.map((n) => [n, i] as const)));
  const next = parts.map(() => 0);
  const results = (held ? txn.success : txn.failure).map((op) => {
    const i = owner.get(namespaceOf(op.key));
    if (i === undefined) throw new Error(`the txn's answer has no part for ${op.key}`);
    const k = next[i]!;
    next[i] = k + 1;
    return parts[i]!.results[k]!;
  });
  const revisions: Record<string, number> = {};
  for (const p of parts) for (const n of p.namespaces) revisions[n] = p.revision;
  return { results, revisions };
}

/**
 * What the first outcome says each part did: a single-shard txn's outcome, the kept answer, or
 * the first attempt's tombstones (probed). Null: its results are no longer kept anywhere.
 */
export async function replayParts(
  router: Router,
  o: TxnKeyedOutcome | TxnOutcome,
  namespaces: string[],
  io: Clock,
): Promise<{ held: boolean; parts: AnswerPart[] } | null> {
  if (o.type === "txn")
    return { held: o.succeeded, parts: [{ namespaces, results: o.results, revision: o.revision }] };
  const held = o.branch === "success";
  if (o.answer !== undefined) return { held, parts: o.answer.parts };
  const probes = await Promise.all(
    o.participants.map(async (namespace) => {
      const w = await router.write(namespace, {
        type: "txnProbe",
        atMs: io.nowMs(),
        txnId: o.txnId,
        deadlineMs: 0,
      });
      return w.outcome;
    }),
  );
  const parts: AnswerPart[] = [];
  for (const p of probes) {
    if (p.type === "txnProbed" && p.part === "prepared")
      throw new ShardUnavailableError(
        `this Idempotency-Key's transaction ${o.txnId} committed and is still resolving: retry`,
        1_000,
      );
    if (p.type !== "txnProbed" || p.resolved === undefined || p.namespaces === undefined)
      return null;
    parts.push({ namespaces: p.namespaces, ...partOf(p.resolved) });
  }
  return { held, parts };
}

function partOf(r: { results: TxnOpResult[]; committedRevision: number }) {
  return { results: r.results, revision: r.committedRevision };
}

/**
 * A commit's forgets: the record namespace's first, bringing the answer a retry replays, then
 * the others' (`rest`), whose tombstones may then go.
 */
export async function forgetWithAnswer(
  router: Router,
  t: Participants,
  answer: TxnKeyedAnswer,
  io: Clock,
  rest: (namespaces: string[]) => Promise<unknown>,
): Promise<void> {
  const forget = { type: "txnForget" as const, atMs: io.nowMs(), txnId: t.txnId, answer };
  await router.write(t.recordNamespace, forget);
  await rest(t.participants.filter((n) => n !== t.recordNamespace));
}
